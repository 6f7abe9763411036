/**
 * Networking benchmarks (group `network`): what the bridge costs `run --rm`, the start of a
 * container with 3 published ports, HTTP through a published port (127.0.0.1, the bridge gateway,
 * and the container's address directly), and lookup latency of the embedded DNS server.
 *
 * dockerd is restarted with iptables on first (docker's default: DNAT rules, docker-proxy for
 * 127.0.0.1, iptables rules for its embedded DNS inside the container); restoreHost deletes its
 * chains at the end. Traffic goes only to 127.0.0.1, to the gateway address of a bridge an engine
 * made (berthd's default bridge, the bench's bbench0 for dockerd, netavark's podman0), and to
 * containers on those bridges; DNS queries only ask for container names the server knows, so no
 * query is ever forwarded upstream.
 */
import { join } from 'node:path';
import { cleanAll, median, ok, pick, roundRobin, type BenchContext, type Benchmark } from '../lib/context.ts';
import { REPO, type Engine, type EngineId, type Target, type TargetId } from '../lib/engines.ts';
import { timed } from '../lib/proc.ts';
import type { Row } from '../lib/report.ts';

const IMAGE = 'busybox';
const ENGINE_TARGETS: TargetId[] = ['berth', 'docker', 'podman'];
const ALL_TARGETS: TargetId[] = ['berth', 'docker-berthd', 'docker', 'podman'];
/** Host ports per engine (the docker CLI→berthd target uses berth's): never two engines on one port. */
const PORT_BASE: Record<EngineId, number> = { berth: 18080, docker: 18180, podman: 18280 };
/** Subnets of the user-defined networks of the DNS benchmark. */
const DNS_SUBNET: Record<EngineId, string> = { berth: '10.213.217.0/24', docker: '10.213.215.0/24', podman: '10.213.216.0/24' };
const DNS_NET = 'bbnet';
const NETLOAD = join(REPO, 'bench/lib/netload.mjs');
const DNSLOOP = join(REPO, 'bench/lib/dnsloop.mjs');
const BIG_MB = 50;
/** Seconds per HTTP case, and connections for the small-request case (1 for the large file). */
const HTTP_SECONDS = Number(process.env['BENCH_HTTP_SECONDS'] ?? 5);
const HTTP_CONC = 8;

export const NETWORK_GROUP = ['net-rm', 'net-publish', 'net-http', 'net-dns'];

function targets(ctx: BenchContext, ids: TargetId[]): Target[] {
  return ctx.targets.filter((t) => ids.includes(t.id));
}

function nodeEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}

interface CtrNet { pid: number; ip: string; gateway: string }

function inspectNet(e: Engine, id: string): CtrNet {
  const j = JSON.parse(ok(e.cli(['inspect', id]), `${e.id} inspect`))[0];
  const nets = Object.values(j?.NetworkSettings?.Networks ?? {}) as Array<{ IPAddress?: string; Gateway?: string }>;
  const n = nets.find((x) => x.IPAddress) ?? {};
  if (!n.IPAddress || !n.Gateway) throw new Error(`${e.id}: container ${id} has no address on a bridge`);
  return { pid: Number(j.State.Pid), ip: n.IPAddress, gateway: n.Gateway };
}

export const netRunRm: Benchmark = {
  name: 'net-rm',
  describe: '`run --rm busybox true` on the default bridge vs --network none: added ms (median of 20 paired runs)',
  async run(ctx) {
    await ctx.docker.useIptables();
    const n = ctx.n(20);
    ctx.log(`run --rm busybox true, bridge and --network none alternating, ${n} pairs`);
    try {
      // Each iteration runs both variants back to back (order alternating), so drift in machine
      // load hits both; the added time is the median of the per-pair differences.
      const r = roundRobin(targets(ctx, ALL_TARGETS), n, 2, (t, i) => {
        const one = (net: string[]) => { const x = t.run(['run', '--rm', ...net, IMAGE, 'true']); ok(x, `${t.label} run --rm ${net.join(' ')}`); return x.ms; };
        let bridge: number;
        let none: number;
        if (i % 2) { none = one(['--network', 'none']); bridge = one([]); } else { bridge = one([]); none = one(['--network', 'none']); }
        return { bridge, none };
      });
      for (const [id, xs] of r.out) ctx.log(`  ${id}: bridge ${median(xs.map((x) => x.bridge)).toFixed(1)} ms, none ${median(xs.map((x) => x.none)).toFixed(1)} ms`);
      const note = r.errors.length ? { note: r.errors.join(' ') } : {};
      ctx.rows.push(
        { bench: 'net-rm', metric: `\`run --rm busybox true\`, default bridge, median of ${n}`, unit: 'ms', values: pick(r.out, (xs) => median(xs.map((x) => x.bridge))) },
        { bench: 'net-rm', metric: `\`run --rm --network none busybox true\`, median of ${n}`, unit: 'ms', values: pick(r.out, (xs) => median(xs.map((x) => x.none))) },
        {
          bench: 'net-rm', metric: 'bridge − none: added by the bridge, median of the paired differences', unit: 'ms',
          values: pick(r.out, (xs) => median(xs.map((x) => x.bridge - x.none))), goal: { max: 20, text: '≤20 ms' }, ...note,
        },
      );
    } finally {
      cleanAll(ctx);
    }
  },
};

export const netPublish: Benchmark = {
  name: 'net-publish',
  describe: '`run -d -p A:80 -p B:81 -p C:82 busybox httpd -f -p 80`, median of 20 (then rm -f, untimed); same without -p',
  async run(ctx) {
    await ctx.docker.useIptables();
    const n = ctx.n(20);
    try {
      const series = (ports: boolean) => roundRobin<{ run: number; rm: number }>(targets(ctx, ALL_TARGETS), n, 2, (t) => {
        const p = PORT_BASE[t.engine.id];
        const pub = ports ? ['-p', `${p}:80`, '-p', `${p + 1}:81`, '-p', `${p + 2}:82`] : [];
        const x = t.run(['run', '-d', ...pub, IMAGE, 'httpd', '-f', '-p', '80']);
        const id = ok(x, `${t.label} run -d ${pub.join(' ')}`);
        const rm = t.run(rmArgs(t.engine, [id]));
        ok(rm, `${t.label} rm -f`);
        return { run: x.ms, rm: rm.ms };
      });
      ctx.log(`run -d with 3 published ports, median of ${n}`);
      const pub = series(true);
      ctx.log(`run -d without published ports (same image and command), median of ${n}`);
      const plain = series(false);
      const runMs = (xs: Array<{ run: number }>) => median(xs.map((x) => x.run));
      for (const [id, xs] of pub.out) ctx.log(`  ${id}: 3 ports ${runMs(xs).toFixed(1)} ms, none ${runMs(plain.out.get(id) ?? []).toFixed(1)} ms`);
      ctx.rows.push(
        {
          bench: 'net-publish', metric: `\`run -d -p A:80 -p B:81 -p C:82 busybox httpd -f -p 80\`, median of ${n}`, unit: 'ms',
          values: pick(pub.out, runMs), goal: { vsDocker: 0.3, text: '≤0.3x docker' },
          note: ['Timed: `run -d` only; each container is removed with `rm -f` (podman: `rm -f -t 0`, as its `rm -f` waits 10 s for SIGTERM first; untimed) before the next start, so the ports are free again. dockerd runs with iptables on (DNAT rules plus a docker-proxy process per published port); podman: netavark iptables rules.', ...pub.errors].join(' '),
        },
        {
          bench: 'net-publish', metric: `same without -p (default bridge), median of ${n}`, unit: 'ms', values: pick(plain.out, runMs),
          ...(plain.errors.length ? { note: plain.errors.join(' ') } : {}),
        },
        { bench: 'net-publish', metric: '`rm -f` of the container with 3 published ports (not in the row above), median', unit: 'ms', values: pick(pub.out, (xs) => median(xs.map((x) => x.rm))) },
      );
    } finally {
      cleanAll(ctx);
    }
  },
};

interface LoadResult { target: string; requests: number; errors: number; bytes: number; seconds: number; reqPerSec: number; mbPerSec: number; slices: number; firstError: string }

/** HTTP_SECONDS per address, the addresses taking turns in 1 s slices (see netload.mjs). */
function load(addrs: string[], path: string, conc: number): LoadResult[] {
  const r = timed(process.execPath, [NETLOAD, 'run', addrs.join(','), path, String(HTTP_SECONDS), String(conc), '1'], nodeEnv(), (HTTP_SECONDS * addrs.length + 60) * 1000);
  if (r.code !== 0) throw new Error(`netload ${addrs.join(',')}${path}: exit ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as LoadResult);
}

const PATHS = ['direct', 'loopback', 'gateway'] as const;
type PathId = typeof PATHS[number];
const PATH_LABEL: Record<PathId, string> = {
  direct: 'container IP:80 directly',
  loopback: '127.0.0.1:PORT',
  gateway: 'bridge gateway address:PORT',
};

export const netHttp: Benchmark = {
  name: 'net-http',
  describe: `HTTP to busybox httpd through a published port (127.0.0.1, bridge gateway) vs the container IP: req/s and MB/s, ${HTTP_SECONDS} s per case`,
  async run(ctx) {
    await ctx.docker.useIptables();
    const results = new Map<EngineId, Map<string, LoadResult>>();
    const errors: string[] = [];
    const info = new Map<EngineId, CtrNet>();
    try {
      for (const t of targets(ctx, ENGINE_TARGETS)) {
        const e = t.engine;
        const port = PORT_BASE[e.id];
        try {
          const script = `mkdir -p /www && echo ok > /www/small && dd if=/dev/zero of=/www/big bs=1M count=${BIG_MB} 2>/dev/null && exec httpd -f -p 80 -h /www`;
          const id = ok(e.cli(['run', '-d', '-p', `${port}:80`, IMAGE, 'sh', '-c', script]), `${e.id} run -d httpd`);
          const net = inspectNet(e, id);
          info.set(e.id, net);
          const addr: Record<PathId, [string, number]> = { direct: [net.ip, 80], loopback: ['127.0.0.1', port], gateway: [net.gateway, port] };
          for (const p of PATHS) {
            const pr = timed(process.execPath, [NETLOAD, 'probe', addr[p].join(':'), '/big', '30'], nodeEnv(), 40_000);
            if (pr.code !== 0) throw new Error(`${PATH_LABEL[p]} (${addr[p].join(':')}) does not answer: ${pr.stderr.trim()}`);
          }
          const m = new Map<string, LoadResult>();
          results.set(e.id, m);
          // The three paths take turns in 1 s slices, so a busy spell spreads over all three.
          for (const [mode, path, conc] of [['small', '/small', HTTP_CONC], ['bulk', '/big', 1]] as const) {
            const rs = load(PATHS.map((p) => addr[p].join(':')), path, conc);
            PATHS.forEach((p, i) => {
              const r = rs[i]!;
              ctx.log(`  ${e.id} ${mode} ${PATH_LABEL[p]}: ${r.reqPerSec.toFixed(0)} req/s, ${r.mbPerSec.toFixed(1)} MB/s, ${r.errors} errors${r.firstError ? ` (${r.firstError})` : ''}`);
              if (r.requests === 0 && r.bytes === 0) throw new Error(`${PATH_LABEL[p]}: no response (${r.firstError})`);
              m.set(`${mode}:${p}`, r);
            });
          }
        } catch (err) {
          if (String(err).includes('aborted')) throw err;
          results.delete(e.id);
          errors.push(`${e.id}: n/a: ${String((err as Error).message ?? err).slice(0, 400)}`);
        } finally {
          removeAll(e);
        }
      }
    } finally {
      cleanAll(ctx);
    }
    const v = (mode: string, p: PathId, f: (r: LoadResult) => number) => {
      const o: Partial<Record<TargetId, number>> = {};
      for (const [id, m] of results) { const r = m.get(`${mode}:${p}`); if (r) o[id] = f(r); }
      return o;
    };
    const ratio = (mode: string, p: PathId, f: (r: LoadResult) => number) => {
      const o: Partial<Record<TargetId, number>> = {};
      for (const [id, m] of results) { const a = m.get(`${mode}:${p}`); const d = m.get(`${mode}:direct`); if (a && d && f(d) > 0) o[id] = f(a) / f(d); }
      return o;
    };
    const goal = { min: 0.95, text: '≥0.95x direct' };
    const rows: Row[] = [];
    const reqs = (r: LoadResult) => r.reqPerSec;
    const mbs = (r: LoadResult) => r.mbPerSec;
    rows.push({
      bench: 'net-http', metric: `small GET (3 bytes), ${HTTP_CONC} connections: ${PATH_LABEL.direct}`, unit: 'req/s', values: v('small', 'direct', reqs),
      note: [`busybox httpd (HTTP/1.0, one connection per request) in a container on the engine's default bridge, published as -p PORT:80; load from bench/lib/netload.mjs on the host, ${HTTP_SECONDS} s per case: the three addresses take turns in 1 s slices and each rate is the median over its slices. Gateway addresses: ${[...info].map(([id, n]) => `${id} ${n.gateway}`).join(', ')}. docker: 127.0.0.1 goes through docker-proxy (userland), the gateway address through iptables DNAT.`, ...errors].join(' '),
    });
    for (const p of ['loopback', 'gateway'] as const) {
      rows.push({ bench: 'net-http', metric: `small GET via ${PATH_LABEL[p]}`, unit: 'req/s', values: v('small', p, reqs) });
      rows.push({ bench: 'net-http', metric: `… via ${PATH_LABEL[p]} / direct`, unit: 'x', values: ratio('small', p, reqs), noRatios: true, goal });
    }
    rows.push({ bench: 'net-http', metric: `${BIG_MB} MB file, 1 connection: ${PATH_LABEL.direct}`, unit: 'MB/s', values: v('bulk', 'direct', mbs) });
    for (const p of ['loopback', 'gateway'] as const) {
      rows.push({ bench: 'net-http', metric: `${BIG_MB} MB file via ${PATH_LABEL[p]}`, unit: 'MB/s', values: v('bulk', p, mbs) });
      rows.push({ bench: 'net-http', metric: `… via ${PATH_LABEL[p]} / direct`, unit: 'x', values: ratio('bulk', p, mbs), noRatios: true, goal });
    }
    ctx.rows.push(...rows);
  },
};

function removeAll(e: Engine): void {
  const ids = e.cli(['ps', '-aq']).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (ids.length) e.cli(rmArgs(e, ids), 120_000);
}

/** `rm -f`; podman 4.3 first sends SIGTERM and waits 10 s (httpd and sleep as PID 1 ignore it), docker and berth kill at once. */
function rmArgs(e: Engine, ids: string[]): string[] {
  return e.id === 'podman' ? ['rm', '-f', '-t', '0', ...ids] : ['rm', '-f', ...ids];
}

interface DnsResult { n: number; lost: number; rcode: string; answers: string[]; medianMs: number; p99Ms: number; meanMs: number; maxMs: number }

function dnsLoop(pid: number, server: string, name: string, count: number): DnsResult {
  const r = timed('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, DNSLOOP, server, name, String(count)], nodeEnv(), 120_000);
  if (r.code !== 0) throw new Error(`dnsloop ${server}: exit ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
  return JSON.parse(r.stdout) as DnsResult;
}

export const netDns: Benchmark = {
  name: 'net-dns',
  describe: 'DNS lookup of another container\'s name on a user-defined network, 500 queries from one process in the container\'s netns: median and p99',
  async run(ctx) {
    await ctx.docker.useIptables();
    const count = ctx.n(500);
    const res = new Map<string, DnsResult>();
    const errors: string[] = [];
    const servers: string[] = [];
    try {
      for (const t of targets(ctx, ENGINE_TARGETS)) {
        const e = t.engine;
        try {
          ok(e.cli(['network', 'create', '--subnet', DNS_SUBNET[e.id], DNS_NET]), `${e.id} network create`);
          const target = ok(e.cli(['run', '-d', '--network', DNS_NET, '--name', 'bbdns-target', IMAGE, 'sleep', '600']), `${e.id} run target`);
          const client = ok(e.cli(['run', '-d', '--network', DNS_NET, '--name', 'bbdns-client', IMAGE, 'sleep', '600']), `${e.id} run client`);
          const tn = inspectNet(e, target);
          const cn = inspectNet(e, client);
          const resolv = e.cli(['exec', client, 'cat', '/etc/resolv.conf']).stdout;
          const ns = /^nameserver\s+(\S+)/m.exec(resolv)?.[1] ?? '';
          ctx.log(`  ${e.id}: client resolv.conf nameserver ${ns}; target ${tn.ip}; gateway ${cn.gateway}`);
          // The server the container is configured with (127.0.0.11 for berth and docker, the
          // gateway where aardvark-dns listens for podman), and for berth also its listener on the gateway.
          const list: Array<[string, string]> = e.id === 'podman' ? [['resolv', ns]] : [['resolv', ns], ...(e.id === 'berth' ? [['gateway', cn.gateway] as [string, string]] : [])];
          for (const [key, server] of list) {
            if (!server) throw new Error('no nameserver in /etc/resolv.conf');
            const r = dnsLoop(cn.pid, server, 'bbdns-target', count);
            ctx.log(`  ${e.id} → ${server}: median ${r.medianMs.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms, max ${r.maxMs.toFixed(2)} ms, lost ${r.lost}, answers ${r.answers.join(',')}`);
            if (!r.answers.includes(tn.ip)) throw new Error(`${server} answered ${r.rcode} ${r.answers.join(',') || '(no A record)'} for bbdns-target, expected ${tn.ip}`);
            res.set(`${e.id}:${key}`, r);
            servers.push(`${e.id} ${server}${key === 'gateway' ? ' (gateway)' : ''}`);
          }
        } catch (err) {
          if (String(err).includes('aborted')) throw err;
          errors.push(`${e.id}: n/a: ${String((err as Error).message ?? err).slice(0, 400)}`);
        } finally {
          removeAll(e);
          e.cli(['network', 'rm', DNS_NET]);
        }
      }
    } finally {
      cleanAll(ctx);
    }
    const vals = (key: string, f: (r: DnsResult) => number, only?: EngineId) => {
      const o: Partial<Record<TargetId, number>> = {};
      for (const id of ['berth', 'docker', 'podman'] as const) { const r = res.get(`${id}:${key}`); if (r && (!only || only === id)) o[id] = f(r); }
      return o;
    };
    const lost = [...res].filter(([, r]) => r.lost).map(([k, r]) => `${k}: ${r.lost} lost`);
    ctx.rows.push(
      {
        bench: 'net-dns', metric: `DNS A lookup of a container name, server from resolv.conf: median of ${count}`, unit: 'ms', values: vals('resolv', (r) => r.medianMs),
        goal: { max: 1, text: 'median <1 ms' },
        note: [`One UDP query at a time from a Node process in the client container's network namespace (bench/lib/dnsloop.mjs via nsenter), after 20 warm-up queries; servers: ${servers.join(', ')}. berth and docker: the embedded DNS at 127.0.0.11 (berth: nft DNAT in the container to berthd on the gateway; docker: iptables redirect to dockerd's listener inside the container's namespace); podman: aardvark-dns on the network's gateway.`, ...lost, ...errors].join(' '),
      },
      { bench: 'net-dns', metric: `… p99 of ${count}`, unit: 'ms', values: vals('resolv', (r) => r.p99Ms) },
      { bench: 'net-dns', metric: `berth: same, straight to the gateway:53 (no DNAT): median of ${count}`, unit: 'ms', values: vals('gateway', (r) => r.medianMs, 'berth'), goal: { max: 1, text: 'median <1 ms' } },
      { bench: 'net-dns', metric: `… p99 of ${count}`, unit: 'ms', values: vals('gateway', (r) => r.p99Ms, 'berth') },
    );
  },
};

export const NETWORK_BENCHMARKS: Benchmark[] = [netRunRm, netPublish, netHttp, netDns];
