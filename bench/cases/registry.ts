/**
 * Registry and archive benchmarks (group `registry`): cold `pull` from and `push` to one local
 * registry (Debian's docker-registry, the reference Distribution 2.8, on 127.0.0.1), and `save`
 * and `load` of the same image, for berth, docker and podman in one run.
 *
 * The image is made once and cached (bench/lib/registry-image.ts: 186 MiB in 5 layers, 113 MiB
 * gzipped). The registry runs from a config under the bench root with filesystem storage there;
 * it is stopped and its storage removed at the end. The pull repository is seeded once by podman
 * (its own compression). Figures are MB/s with MB = MiB: pull and push over the compressed size
 * of the image in the pull repository (the same figure for every engine), save and load over
 * the archive's size (each engine's own file for save).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanAll, median, ok, pick, roundRobin, type BenchContext, type Benchmark } from '../lib/context.ts';
import type { Engine, Target, TargetId } from '../lib/engines.ts';
import { sleep, timed } from '../lib/proc.ts';
import { registryImage, type RegistryImage } from '../lib/registry-image.ts';
import { freePort } from '../../src/lib/test-support.ts';

const MiB = 1 << 20;
const PULL_REPO = 'bbreg/pull';
const PUSH_REPO = 'bbreg/push';
const TAG = '1';

export const REGISTRY_GROUP = ['reg-archive', 'reg-transfer'];

const TARGETS: TargetId[] = ['berth', 'docker-berthd', 'docker', 'podman'];

function targets(ctx: BenchContext): Target[] {
  return ctx.targets.filter((t) => TARGETS.includes(t.id));
}

/** podman talks plain HTTP to a registry only when told; docker and berth do for 127.0.0.0/8. */
function tlsArgs(t: Target): string[] {
  return t.id === 'podman' ? ['--tls-verify=false'] : [];
}

/** Whether the engine has an image by that reference. */
function hasImage(e: Engine, ref: string): boolean {
  return e.cli(['image', 'inspect', '--format', '{{.Id}}', ref]).code === 0;
}

/**
 * Removes images by reference (absent ones are fine), then `image prune -f`: dangling leftovers
 * go, and berthd drops the compressed forms of layers no image has any more (it keeps them after
 * `rmi` so that a later pull or push can reuse them), so nothing of the image is left to reuse.
 */
function removeImages(e: Engine, refs: string[]): void {
  const present = refs.filter((r) => hasImage(e, r));
  if (present.length) ok(e.cli(['rmi', '-f', ...present], 120_000), `${e.id} rmi ${present.join(' ')}`);
  e.cli(['image', 'prune', '-f'], 120_000);
}

/** The image ID as "sha256:<hex>" (podman prints it bare). */
function imageId(t: Target, ref: string): string {
  const id = ok(t.run(['image', 'inspect', '--format', '{{.Id}}', ref]), `${t.label} image inspect ${ref}`);
  return id.startsWith('sha256:') ? id : `sha256:${id}`;
}

/** Debian's docker-registry on 127.0.0.1:<free port>, filesystem storage under `dir`. */
class LocalRegistry {
  proc: ChildProcess | undefined;
  port = 0;
  constructor(readonly dir: string) {}

  get host(): string { return `127.0.0.1:${this.port}`; }
  get storage(): string { return join(this.dir, 'storage'); }

  async start(): Promise<void> {
    mkdirSync(this.storage, { recursive: true });
    this.port = await freePort();
    const cfg = join(this.dir, 'config.yml');
    // No blob descriptor cache: the bench deletes repositories under the running registry.
    writeFileSync(cfg, [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${this.storage}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: ${this.host}`,
      '',
    ].join('\n'));
    const out = openSync(join(this.dir, 'registry.log'), 'a');
    this.proc = spawn('docker-registry', ['serve', cfg], { stdio: ['ignore', out, out], detached: true });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) break;
      if (timed('curl', ['-sf', '-o', '/dev/null', `http://${this.host}/v2/`], process.env, 5000).code === 0) return;
      await sleep(100);
    }
    throw new Error(`docker-registry did not come up: ${readFileSync(join(this.dir, 'registry.log'), 'utf8').slice(-1000)}`);
  }

  /** The manifest a tag points at, read from the registry's storage. */
  manifest(repo: string, tag: string): { digest: string; config: { digest: string; size: number }; layers: { digest: string; size: number; mediaType: string }[] } {
    const v2 = join(this.storage, 'docker/registry/v2');
    const digest = readFileSync(join(v2, 'repositories', repo, '_manifests/tags', tag, 'current/link'), 'utf8').trim();
    const hex = digest.slice('sha256:'.length);
    const m = JSON.parse(readFileSync(join(v2, 'blobs/sha256', hex.slice(0, 2), hex, 'data'), 'utf8'));
    return { digest, ...m };
  }

  /**
   * Removes a repository from the storage: later pushes cannot mount its blobs (docker and podman
   * remember where layers came from and try a cross-repository mount first), so every push sends
   * every byte. The blobs stay.
   */
  removeRepository(repo: string): void {
    rmSync(join(this.storage, 'docker/registry/v2/repositories', repo), { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }
}

/** `berth registry serve` from the bench's build on 127.0.0.1:<free port>, storage in `dir`. */
async function startBerthRegistry(ctx: BenchContext, dir: string): Promise<{ host: string; stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const host = `127.0.0.1:${await freePort()}`;
  const proc = spawn(process.execPath, [join(ctx.root, 'dist/berth.mjs'), 'registry', 'serve', '--addr', host, '--root', join(dir, 'root'), '--quiet'], { stdio: 'ignore' });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    if (timed('curl', ['-sf', '-o', '/dev/null', `http://${host}/v2/`], process.env, 5000).code === 0) return { host, stop };
    await sleep(100);
  }
  await stop();
  throw new Error('berth registry serve did not come up');
}

const compressedBytes = (m: ReturnType<LocalRegistry['manifest']>) => m.config.size + m.layers.reduce((a, l) => a + l.size, 0);
const mbs = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);
const fmtMb = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/** Loads the test image unless the engine has it already (untimed setup). */
function ensureLoaded(ctx: BenchContext, img: RegistryImage): void {
  for (const e of [ctx.berth, ctx.docker, ctx.podman]) {
    if (!hasImage(e, img.ref)) ok(e.cli(['load', '-i', img.path], 600_000), `${e.id} load ${img.path}`);
  }
}

function imageNote(img: RegistryImage): string {
  return `Image ${img.ref} (bench/lib/registry-image.ts, cached in bench/.cache): ${img.layers.length} layers, ${fmtMb(img.layerBytes)} of layer tars (${img.layers.map((l) => `${(l.bytes / MiB).toFixed(1)}`).join(' + ')} MiB; ${img.layers.reduce((a, l) => a + l.files, 0)} files), ${fmtMb(img.gzipBytes)} at gzip -6; docker-archive ${fmtMb(img.archiveBytes)}.`;
}

export const regArchive: Benchmark = {
  name: 'reg-archive',
  describe: '`save -o FILE` and `load -i FILE` of a 186 MiB image (5 layers): MB/s, median of 5',
  async run(ctx) {
    const n = ctx.n(5);
    const img = await registryImage();
    const dir = join(ctx.root, 'reg-archive');
    mkdirSync(dir, { recursive: true });
    const sizes = new Map<TargetId, number>();
    const checked: string[] = [];
    try {
      ensureLoaded(ctx, img);
      const r = roundRobin(targets(ctx), n, 1, (t, i) => {
        const e = t.engine;
        const file = join(dir, `${t.id}.tar`);
        rmSync(file, { force: true });
        // The image is present: save it.
        const save = t.run(['save', '-o', file, img.ref], 600_000);
        ok(save, `${t.label} save`);
        const saveBytes = statSync(file).size;
        sizes.set(t.id, saveBytes);
        // Cold load of the engine's own archive, then of the shared one (which leaves the image for the next round).
        removeImages(e, [img.ref]);
        const loadOwn = t.run(['load', '-i', file], 600_000);
        ok(loadOwn, `${t.label} load -i own save`);
        if (i === 0 && imageId(t, img.ref) !== img.id) throw new Error(`${t.label}: the image loaded from its own save has ID ${imageId(t, img.ref)}, expected ${img.id}`);
        removeImages(e, [img.ref]);
        const load = t.run(['load', '-i', img.path], 600_000);
        ok(load, `${t.label} load -i`);
        if (i === 0) {
          const id = imageId(t, img.ref);
          if (id !== img.id) throw new Error(`${t.label}: loaded image has ID ${id}, expected ${img.id}`);
          checked.push(t.label);
        }
        rmSync(file, { force: true });
        const x = { save: mbs(saveBytes, save.ms), loadOwn: mbs(saveBytes, loadOwn.ms), load: mbs(img.archiveBytes, load.ms) };
        ctx.log(`  ${t.label}: save ${x.save.toFixed(1)} MB/s (${save.ms.toFixed(0)} ms, ${fmtMb(saveBytes)}), load own ${x.loadOwn.toFixed(1)} MB/s (${loadOwn.ms.toFixed(0)} ms), load ${x.load.toFixed(1)} MB/s (${load.ms.toFixed(0)} ms)`);
        return x;
      });
      const goal = { minVsDocker: 1.5, text: '≥1.5x docker (MB/s)' };
      ctx.rows.push(
        {
          bench: 'reg-archive', metric: `\`save -o FILE IMAGE\` (186 MiB, 5 layers), median of ${n}`, unit: 'MB/s', values: pick(r.out, (xs) => median(xs.map((x) => x.save))), goal,
          note: [`MB = MiB. ${imageNote(img)} Timed: the whole CLI command. save: MB/s of the engine's own archive (${[...sizes].map(([id, b]) => `${id} ${fmtMb(b)}`).join(', ')}), written into the bench root (same disk as the engines' stores). load: the image removed first (\`rmi\` and \`image prune -f\`; its layers go with it), then \`load -i\`; the generated archive is the same file for everyone. The image ID after load was checked in the first round: ${checked.length ? `right for ${checked.join(', ')}` : 'not checked'}. One warm-up round.`, ...r.errors].join(' '),
        },
        { bench: 'reg-archive', metric: `\`load -i FILE\` of the generated docker-archive (${fmtMb(img.archiveBytes)}), cold, median of ${n}`, unit: 'MB/s', values: pick(r.out, (xs) => median(xs.map((x) => x.load))), goal },
        { bench: 'reg-archive', metric: `… \`load -i\` of the engine's own \`save\` output, cold, median of ${n}`, unit: 'MB/s', values: pick(r.out, (xs) => median(xs.map((x) => x.loadOwn))) },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      cleanAll(ctx);
      for (const e of [ctx.berth, ctx.docker, ctx.podman]) { try { removeImages(e, [img.ref]); } catch { /* reported by the leak check */ } }
    }
  },
};

export const regTransfer: Benchmark = {
  name: 'reg-transfer',
  describe: 'cold `pull` from and `push` (fresh repository) to a local docker-registry of a 186 MiB image (113 MiB compressed): MB/s, median of 5',
  async run(ctx) {
    const n = ctx.n(5);
    const img = await registryImage();
    const reg = new LocalRegistry(join(ctx.root, 'registry'));
    const pullRef = () => `${reg.host}/${PULL_REPO}:${TAG}`;
    const pushRepos: string[] = [];
    const pushed = new Map<TargetId, number>();
    const notes: string[] = [];
    let ownServer: { stop(): Promise<void> } | undefined;
    try {
      await reg.start();
      ctx.log(`  docker-registry at ${reg.host}; seeding ${PULL_REPO} with podman push`);
      ensureLoaded(ctx, img);
      ok(ctx.podman.cli(['push', '--tls-verify=false', img.ref, pullRef()], 600_000), 'podman push (seed)');
      const seeded = reg.manifest(PULL_REPO, TAG);
      const bytes = compressedBytes(seeded);
      if (seeded.config.digest !== img.id) throw new Error(`seeded manifest has config ${seeded.config.digest}, expected ${img.id}`);
      ctx.log(`  ${PULL_REPO}:${TAG}: ${seeded.layers.length} layers, ${fmtMb(bytes)} compressed`);

      // Pulls: every round starts without the image or its layers.
      const checkedPull: string[] = [];
      const pulls = roundRobin(targets(ctx), n, 1, (t, i) => {
        removeImages(t.engine, [pullRef(), img.ref]);
        const r = t.run(['pull', ...tlsArgs(t), pullRef()], 600_000);
        ok(r, `${t.label} pull`);
        if (i === 0) {
          const id = imageId(t, pullRef());
          if (id !== img.id) throw new Error(`pulled image has ID ${id}, expected ${img.id}`);
          checkedPull.push(t.label);
        }
        removeImages(t.engine, [pullRef()]);
        ctx.log(`  ${t.label}: pull ${mbs(bytes, r.ms).toFixed(1)} MB/s (${r.ms.toFixed(0)} ms)`);
        return mbs(bytes, r.ms);
      });

      // The same cold pulls from our own server (`berth registry serve`), seeded the same way:
      // dockerd and podman pull from it too.
      const own = await startBerthRegistry(ctx, join(ctx.root, 'berth-registry'));
      ownServer = own;
      const ownRef = `${own.host}/${PULL_REPO}:${TAG}`;
      ensureLoaded(ctx, img);
      ok(ctx.podman.cli(['push', '--tls-verify=false', img.ref, ownRef], 600_000), 'podman push (seed berth registry)');
      const ownPulls = roundRobin(targets(ctx), n, 1, (t, i) => {
        removeImages(t.engine, [ownRef, pullRef(), img.ref]);
        const r = t.run(['pull', ...tlsArgs(t), ownRef], 600_000);
        ok(r, `${t.label} pull from berth registry`);
        if (i === 0 && imageId(t, ownRef) !== img.id) throw new Error(`${t.label}: image pulled from berth registry has the wrong ID`);
        removeImages(t.engine, [ownRef]);
        ctx.log(`  ${t.label}: pull from berth registry ${mbs(bytes, r.ms).toFixed(1)} MB/s (${r.ms.toFixed(0)} ms)`);
        return mbs(bytes, r.ms);
      });
      ctx.rows.push({
        bench: 'reg-transfer', metric: `… cold \`pull\` of the same image from \`berth registry serve\`, median of ${n}`, unit: 'MB/s', values: pick(ownPulls.out, median),
        note: [`The same pulls as above from berth's own registry server (seeded by podman push, image ID checked for every engine in the first round): every engine, Debian's dockerd included, pulls from it.`, ...ownPulls.errors].join(' '),
      });

      // Pushes of the image as loaded from the archive (layers stored uncompressed everywhere:
      // each engine compresses them itself): removed, pruned and loaded again before each round,
      // then pushed twice, each time to a fresh repository. The pull repository and every pushed
      // one are removed from the registry first, so no engine can mount a blob instead of
      // sending it. The second push shows what an engine keeps from the first (berthd keeps the
      // gzip it made; docker and podman compress again).
      reg.removeRepository(PULL_REPO);
      const checkedPush: string[] = [];
      const pushChecked = new Set<TargetId>();
      const pushOnce = (t: Target, repo: string): number => {
        const ref = `${reg.host}/${repo}:${TAG}`;
        pushRepos.push(ref);
        ok(t.run(['tag', img.ref, ref]), `${t.label} tag`);
        const r = t.run(['push', ...tlsArgs(t), ref], 600_000);
        try {
          ok(r, `${t.label} push`);
          const m = reg.manifest(repo, TAG);
          if (m.config.digest !== img.id || m.layers.length !== img.layers.length) throw new Error(`pushed manifest has config ${m.config.digest} and ${m.layers.length} layers`);
          pushed.set(t.id, compressedBytes(m));
          if (!pushChecked.has(t.id)) { pushChecked.add(t.id); checkedPush.push(`${t.label} (${m.layers[0]?.mediaType ?? '?'})`); }
        } finally {
          reg.removeRepository(repo);
          t.engine.cli(['rmi', ref], 120_000);
        }
        return r.ms;
      };
      const pushes = roundRobin(targets(ctx), n, 1, (t, i) => {
        removeImages(t.engine, [img.ref]);
        ok(t.engine.cli(['load', '-i', img.path], 600_000), `${t.label} load`);
        const first = pushOnce(t, `${PUSH_REPO}-${t.id}-${i}a`);
        const second = pushOnce(t, `${PUSH_REPO}-${t.id}-${i}b`);
        ctx.log(`  ${t.label}: push ${mbs(bytes, first).toFixed(1)} MB/s (${first.toFixed(0)} ms, sent ${fmtMb(pushed.get(t.id) ?? 0)}), again ${mbs(bytes, second).toFixed(1)} MB/s (${second.toFixed(0)} ms)`);
        return { first: mbs(bytes, first), second: mbs(bytes, second) };
      });
      notes.push(`MB = MiB. ${imageNote(img)} Registry: Debian's docker-registry (Distribution 2.8) on ${reg.host}, filesystem storage under the bench root, no cache, plain HTTP (docker and berth treat 127.0.0.0/8 as insecure; podman gets --tls-verify=false). Timed: the whole CLI command. MB/s over ${fmtMb(bytes)}, the compressed size of the image in ${PULL_REPO} (seeded once by \`podman push\`), for every engine.`);
      notes.push(`pull: the image and its layers removed first (\`rmi\` and \`image prune -f\`, which also drops the compressed layers berthd keeps after \`rmi\`), so every layer is downloaded and unpacked; the image ID after pull checked in the first round: ${checkedPull.length ? `right for ${checkedPull.join(', ')}` : 'none'}.`);
      ctx.rows.push(
        { bench: 'reg-transfer', metric: `cold \`pull\` (${fmtMb(bytes)} compressed, 5 layers), median of ${n}`, unit: 'MB/s', values: pick(pulls.out, median), goal: { minVsDocker: 1.5, text: '≥1.5x docker (MB/s)' }, note: [...notes, ...pulls.errors].join(' ') },
        {
          bench: 'reg-transfer', metric: `\`push\` of a freshly loaded image to a fresh repository, median of ${n}`, unit: 'MB/s', values: pick(pushes.out, (xs) => median(xs.map((x) => x.first))), goal: { minVsDocker: 2, text: '≥2x docker (MB/s)' },
          note: [`push: the image removed, pruned and loaded from the archive again before each round (untimed), so every engine has only uncompressed layers and compresses them while pushing; each push goes to a new repository, and the pull repository and each pushed repository are deleted from the registry's storage before the next push, so no cross-repository mount can stand in for an upload. Bytes each engine sent (its own compression): ${[...pushed].map(([id, b]) => `${id} ${fmtMb(b)}`).join(', ') || 'none'}. The manifest of every push was checked (config digest, ${img.layers.length} layers): ${checkedPush.join(', ') || 'none'}. One warm-up round.`, ...pushes.errors].join(' '),
        },
        { bench: 'reg-transfer', metric: `… the same image pushed again right after, to another fresh repository (berthd sends the gzip it kept), median of ${n}`, unit: 'MB/s', values: pick(pushes.out, (xs) => median(xs.map((x) => x.second))) },
      );
    } finally {
      await reg.stop();
      await ownServer?.stop();
      cleanAll(ctx);
      for (const e of [ctx.berth, ctx.docker, ctx.podman]) { try { removeImages(e, [img.ref, pullRef(), ...pushRepos]); } catch { /* reported by the leak check */ } }
      rmSync(reg.dir, { recursive: true, force: true });
    }
  },
};

export const REGISTRY_BENCHMARKS: Benchmark[] = [regArchive, regTransfer];
