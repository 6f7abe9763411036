import { KeyedMutex } from '../../lib/keyed-mutex.ts';
import type { RootfsProvider } from './deps.ts';

/** The snapshotter operations the wrapper passes through. */
export interface MountableRootfs extends RootfsProvider {
  isMounted(containerId: string): Promise<boolean>;
  mountedContainers(): Promise<string[]>;
}

/**
 * A container's rootfs shared between its runs and short users (cp, export, commit, diff).
 *
 * The container service mounts the rootfs at start and unmounts it at exit; a user `acquire`s it
 * for the length of one operation, mounting it when the container is stopped. While users hold
 * it, the service's unmount is deferred to the last release (an exit during a `cp` must not pull
 * the filesystem away, nor fail with EBUSY and leak the mount); a stopped container's rootfs is
 * unmounted when its last user leaves. Mount and unmount of one container are serialized.
 */
export class SharedRootfs implements RootfsProvider {
  readonly #inner: MountableRootfs;
  readonly #lock = new KeyedMutex();
  /** Per container: users holding it, and whether the container service wants it mounted. */
  readonly #state = new Map<string, { users: number; wanted: boolean }>();

  constructor(inner: MountableRootfs) {
    this.#inner = inner;
  }

  prepare(containerId: string, chainIds: string[]): Promise<void> {
    return this.#inner.prepare(containerId, chainIds);
  }

  mount(containerId: string): Promise<string> {
    return this.#lock.run(containerId, async () => {
      const s = this.#state.get(containerId);
      if (s) s.wanted = true;
      return this.#inner.mount(containerId);
    });
  }

  unmount(containerId: string): Promise<void> {
    return this.#lock.run(containerId, async () => {
      const s = this.#state.get(containerId);
      if (s) {
        s.wanted = false;
        if (s.users > 0) return; // the last release unmounts
      }
      await this.#inner.unmount(containerId);
    });
  }

  /** IDs of the containers whose rootfs is mounted (for start-up recovery, before any user). */
  mountedContainers(): Promise<string[]> {
    return this.#inner.mountedContainers();
  }

  remove(containerId: string): Promise<void> {
    return this.#lock.run(containerId, () => this.#inner.remove(containerId));
  }

  /**
   * Runs `fn` with the merged rootfs path, mounted for as long as it runs. NotFound when the
   * container has no snapshot. The caller must not keep the path after `fn` settles.
   */
  async use<T>(containerId: string, fn: (rootfs: string) => Promise<T>): Promise<T> {
    const path = await this.#lock.run(containerId, async () => {
      let s = this.#state.get(containerId);
      if (!s) {
        // Mounted before our first user: the container service wants it (it is running).
        s = { users: 0, wanted: await this.#inner.isMounted(containerId) };
        this.#state.set(containerId, s);
      }
      s.users++;
      try {
        return await this.#inner.mount(containerId);
      } catch (err) {
        s.users--;
        if (s.users === 0) this.#state.delete(containerId);
        throw err;
      }
    });
    try {
      return await fn(path);
    } finally {
      await this.#lock.run(containerId, async () => {
        const s = this.#state.get(containerId);
        if (!s) return;
        s.users--;
        if (s.users > 0) return;
        this.#state.delete(containerId);
        if (!s.wanted) await this.#inner.unmount(containerId);
      });
    }
  }
}
