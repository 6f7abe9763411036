import { readFile } from 'node:fs/promises';
import { EngineError } from '../../lib/errors.ts';
import type { ExecFn } from '../../lib/exec.ts';
import type { LocalMountOptions } from './parse.ts';

/**
 * The host side of local volumes: mount(8)/umount(8) for volumes with options, cp(1) for copy-up.
 * Only this file runs those tools; exec is injected.
 */
export class VolumeHost {
  constructor(private readonly exec: ExecFn) {}

  /** Mounts a local volume's tmpfs or host directory at `target` (its `_data`). */
  async mount(target: string, o: LocalMountOptions): Promise<void> {
    const args = ['-t', o.type, ...(o.o ? ['-o', o.o] : []), o.device, target];
    const r = await this.exec('mount', args);
    if (r.exitCode !== 0) throw new EngineError('Internal', `error while mounting volume '${target}': ${r.stderr.trim() || `mount exited ${r.exitCode}`}`);
  }

  /** Unmounts `target`; a busy mount is detached (MNT_DETACH) rather than left behind. */
  async unmount(target: string): Promise<void> {
    const r = await this.exec('umount', [target]);
    if (r.exitCode === 0) return;
    const lazy = await this.exec('umount', ['-l', target]);
    if (lazy.exitCode !== 0 && (await mountPoints()).includes(target)) {
      throw new EngineError('Internal', `unmount volume ${target}: ${lazy.stderr.trim() || r.stderr.trim()}`);
    }
  }

  /**
   * Copies the contents of `src` (a directory already resolved inside a rootfs) into `dst`,
   * keeping owners, modes, times and symlinks as they are (cp -a never follows them).
   */
  async copyInto(src: string, dst: string): Promise<void> {
    const r = await this.exec('cp', ['-a', '--', `${src}/.`, `${dst}/`]);
    if (r.exitCode !== 0) throw new EngineError('Internal', `copy image content into volume: ${r.stderr.trim()}`);
  }
}

/** Every mount point in this mount namespace, octal escapes (`\040`) decoded. */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').flatMap((l) => {
    const p = l.split(' ')[4];
    return p ? [p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))] : [];
  });
}
