/**
 * Registry benchmark (group `registry-server`): pull throughput of `berth registry serve` against
 * Debian's docker-registry (Distribution 2.8) serving the same image from the same kind of
 * storage (filesystem under the bench root), both on 127.0.0.1.
 *
 * The image (5 gzip layers of random bytes, about 120 MiB) is built locally as an OCI layout
 * and pushed once to each registry with skopeo. A pull is what a client does for it: GET the
 * manifest, the config and every layer, over one keep-alive connection (curl, so the client's
 * cost is small and equal for both). N clients pull at once, 8 pulls per round in all; throughput is
 * the round's bytes over its wall time. Rounds alternate between the registries. No engine is needed:
 * berthd, dockerd and podman are not started for this group.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, type BenchContext, type Benchmark } from '../lib/context.ts';
import { abort, sleep, timed } from '../lib/proc.ts';
import { freePort } from '../../src/lib/test-support.ts';

export const REGISTRY_SERVER_GROUP = ['reg-serve'];

const MiB = 1 << 20;
const LAYERS = 5;
const LAYER_MB = Number(process.env['BENCH_REGISTRY_LAYER_MB'] ?? 24);
const CLIENTS = [1, 8];
/** Image pulls per round in all (a client pulls PULLS / clients times), so every round moves the same bytes. */
const PULLS = 8;

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function must(r: { code: number; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
  return r.stdout;
}

/** An OCI layout of LAYERS gzip layers (a tar of one random file each) under `dir`; returns its blobs. */
function makeImage(dir: string): { blobs: Array<{ digest: string; size: number }>; manifest: Buffer } {
  const blobs = join(dir, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer): { digest: string; size: number } => {
    const digest = sha(b);
    writeFileSync(join(blobs, digest.slice(7)), b);
    return { digest, size: b.length };
  };
  const layers: Array<{ digest: string; size: number }> = [];
  const diffIds: string[] = [];
  for (let i = 0; i < LAYERS; i++) {
    const work = join(dir, `l${i}`);
    mkdirSync(work);
    must(timed('sh', ['-c', `head -c ${LAYER_MB * MiB} /dev/urandom > ${work}/data${i} && tar -C ${work} -cf ${work}.tar data${i}`], process.env), 'make layer');
    const tar = readFileSync(`${work}.tar`);
    diffIds.push(sha(tar));
    must(timed('sh', ['-c', `pigz -1 -c ${work}.tar > ${work}.tar.gz`], process.env), 'gzip layer');
    layers.push(put(readFileSync(`${work}.tar.gz`)));
    rmSync(work, { recursive: true });
    rmSync(`${work}.tar`);
    rmSync(`${work}.tar.gz`);
  }
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } })));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
  }));
  const m = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': 'img' } }] }));
  return { blobs: [config, ...layers], manifest };
}

interface Server { id: 'berth' | 'docker'; label: string; host: string; proc: ChildProcess; log: string }

async function waitUp(s: Server): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (s.proc.exitCode !== null) throw new Error(`${s.label} exited ${s.proc.exitCode}: ${s.log.slice(-400)}`);
    if (timed('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${s.host}/v2/`], process.env, 5_000).stdout === '200') return;
    await sleep(50);
  }
  throw new Error(`${s.label} did not come up: ${s.log.slice(-400)}`);
}

function startServer(id: Server['id'], label: string, host: string, cmd: string, args: string[]): Server {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const s: Server = { id, label, host, proc, log: '' };
  proc.stderr!.on('data', (b: Buffer) => { s.log = (s.log + b.toString()).slice(-8000); });
  return s;
}

async function stopServer(s: Server): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const gone = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  const t = setTimeout(() => s.proc.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

/**
 * N curl clients pulling the whole image `pulls` times each, all at once; resolves to MiB/s,
 * after checking every client's byte count.
 */
async function pullRound(s: Server, clients: number, pulls: number, urls: string[], image: number): Promise<number> {
  const expected = image * pulls;
  const argv = ['-s', '--fail', '-H', 'Accept: application/vnd.oci.image.manifest.v1+json', '-w', '%{size_download}\\n'];
  for (let i = 0; i < pulls; i++) for (const u of urls) argv.push(`http://${s.host}${u}`, '-o', '/dev/null');
  const t0 = process.hrtime.bigint();
  const outs = await Promise.all(Array.from({ length: clients }, () => new Promise<string>((resolve, reject) => {
    const p = spawn('curl', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl against ${s.label}: exit ${code}`))));
  })));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const o of outs) {
    const got = o.trim().split('\n').reduce((a, x) => a + Number(x), 0);
    if (got !== expected) throw new Error(`${s.label}: a pull got ${got} bytes, expected ${expected}`);
  }
  return (clients * expected) / MiB / secs;
}

const registryPull: Benchmark = {
  name: 'reg-serve',
  describe: 'pull throughput: berth registry serve vs Debian docker-registry, same image and load',
  standalone: true,
  async run(ctx: BenchContext) {
    const dir = join(ctx.root, 'registry-bench');
    mkdirSync(dir, { recursive: true });
    const servers: Server[] = [];
    try {
      ctx.log(`  building a ${LAYERS}-layer image of ${LAYERS * LAYER_MB} MiB random data`);
      const image = makeImage(join(dir, 'oci'));
      const berthHost = `127.0.0.1:${await freePort()}`;
      const distHost = `127.0.0.1:${await freePort()}`;
      const config = join(dir, 'distribution.yml');
      writeFileSync(config, [
        'version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true',
        'storage:', '  cache:', '    blobdescriptor: inmemory', '  filesystem:', `    rootdirectory: ${join(dir, 'distribution')}`,
        'http:', `  addr: ${distHost}`, '',
      ].join('\n'));
      servers.push(
        startServer('berth', 'berth registry serve', berthHost, process.execPath, [join(ctx.root, 'dist/berth.mjs'), 'registry', 'serve', '--addr', berthHost, '--root', join(dir, 'berth'), '--quiet']),
        startServer('docker', 'docker-registry', distHost, 'docker-registry', ['serve', config]),
      );
      for (const s of servers) {
        await waitUp(s);
        must(timed('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests', `oci:${join(dir, 'oci')}:img`, `docker://${s.host}/bench/img:1`], process.env, 300_000), `skopeo push to ${s.label}`);
      }
      const urls = ['/v2/bench/img/manifests/1', ...image.blobs.map((b) => `/v2/bench/img/blobs/${b.digest}`)];
      const expected = image.manifest.length + image.blobs.reduce((a, b) => a + b.size, 0);
      const rounds = ctx.n(7);
      for (const clients of CLIENTS) {
        const results = new Map<Server['id'], number[]>(servers.map((s) => [s.id, []]));
        for (let i = 0; i < rounds + 1; i++) {
          for (const s of i % 2 ? [...servers].reverse() : servers) {
            if (abort.requested) throw new Error('aborted');
            const mbs = await pullRound(s, clients, PULLS / clients, urls, expected);
            if (i > 0) results.get(s.id)!.push(mbs);
          }
        }
        for (const [id, xs] of results) ctx.log(`  ${clients} client(s), ${id}: median ${median(xs).toFixed(0)} MB/s (${xs.map((x) => x.toFixed(0)).join(' ')})`);
        ctx.rows.push({
          bench: 'reg-serve', metric: `pull, ${clients} parallel client${clients > 1 ? 's' : ''}, median of ${rounds}`, unit: 'MB/s',
          values: { berth: median(results.get('berth')!), docker: median(results.get('docker')!) },
          goal: { minVsDocker: 1, text: '≥1x docker-registry' },
          note: clients !== CLIENTS[0] ? `As above, with ${clients} clients at once.` : `Columns: berth = \`berth registry serve\`, docker = Debian docker-registry ${distributionVersion()} (filesystem storage, in-memory blob descriptor cache, access log off). MB = MiB. Image: manifest, config and ${LAYERS} gzip layers of ${LAYER_MB} MiB random data (${(expected / MiB).toFixed(1)} MiB), pushed once with skopeo; files in the page cache. Each client is one curl fetching all ${urls.length} URLs ${PULLS} / clients times over one keep-alive connection (${PULLS} image pulls per round in all); throughput is the round's bytes over its wall time, every client's byte count checked. Client and server share the machine's CPUs. One warm-up round; rounds alternate between the registries.`,
        });
      }
    } finally {
      for (const s of servers) await stopServer(s);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function distributionVersion(): string {
  const r = spawnSync('docker-registry', ['--version'], { encoding: 'utf8' });
  return /v?\d+\.\d+\.\d+\S*/.exec(`${r.stdout}${r.stderr}`)?.[0] ?? '';
}

export const REGISTRY_SERVER_BENCHMARKS: Benchmark[] = [registryPull];
