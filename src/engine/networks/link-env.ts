/**
 * The environment a legacy `--link` gives the linking container (dockerd's daemon/links/links.go,
 * API 1.47; dockerd 29 keeps it only behind DOCKER_KEEP_DEPRECATED_LEGACY_LINKS_ENV_VARS=1):
 * ALIAS_PORT, ALIAS_PORT_<port>_<PROTO>{,_ADDR,_PORT,_PROTO}, _START/_END for runs of
 * consecutive ports, ALIAS_NAME, and ALIAS_ENV_<name> for the linked container's variables.
 * ALIAS is the link name's last element, upper-cased, with "-" as "_".
 */
export interface LinkEnvInput {
  /** The link's full name, "/<container>/<alias>". */
  name: string;
  /** The linked container's address on the default bridge. */
  childIp: string;
  /** The linked container's Config.Env. */
  env: readonly string[] | null | undefined;
  /** The linked container's Config.ExposedPorts ("80/tcp"). */
  exposedPorts: Readonly<Record<string, unknown>> | null | undefined;
}

interface Port { num: number; proto: string }

function parsePort(key: string): Port | undefined {
  const m = /^(\d+)(?:-\d+)?(?:\/(\w+))?$/.exec(key);
  return m ? { num: Number(m[1]), proto: (m[2] ?? 'tcp').toLowerCase() } : undefined;
}

/** TCP first, then by number, then by protocol (links.go withTCPPriority). */
function byTcpPriority(a: Port, b: Port): number {
  if (a.proto === b.proto) return a.num - b.num;
  if (a.proto === 'tcp') return -1;
  if (b.proto === 'tcp') return 1;
  return a.proto < b.proto ? -1 : 1;
}

export function linkEnv(l: LinkEnvInput): string[] {
  const last = l.name.split('/').pop() ?? '';
  const alias = last.toUpperCase().replace(/-/g, '_');
  const ports = Object.keys(l.exposedPorts ?? {}).flatMap((k) => parsePort(k) ?? []).sort(byTcpPriority);
  const env: string[] = [];
  const url = (p: Port) => `${p.proto}://${l.childIp}:${p.num}`;
  let start: Port | undefined;
  let end: Port | undefined;
  ports.forEach((p, i) => {
    if (i === 0) {
      start = end = p;
      env.push(`${alias}_PORT=${url(p)}`);
    }
    const prefix = `${alias}_PORT_${p.num}_${p.proto.toUpperCase()}`;
    env.push(`${prefix}=${url(p)}`, `${prefix}_ADDR=${l.childIp}`, `${prefix}_PORT=${p.num}`, `${prefix}_PROTO=${p.proto}`);
    // A run of consecutive ports of one protocol also gets _START and _END, written when it ends.
    if (p.num === end!.num + 1 && p.proto === end!.proto) {
      end = p;
      if (i < ports.length - 1) return;
    }
    if (end !== start) {
      const rp = `${alias}_PORT_${start!.num}_${start!.proto.toUpperCase()}`;
      env.push(`${rp}_START=${url(start!)}`, `${rp}_PORT_START=${start!.num}`, `${rp}_END=${url(end!)}`, `${rp}_PORT_END=${end!.num}`);
    }
    start = end = p;
  });
  env.push(`${alias}_NAME=${l.name}`);
  for (const kv of l.env ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 0) continue;
    const key = kv.slice(0, eq);
    // Set by builds, not meant for the linking container.
    if (key === 'HOME' || key === 'PATH') continue;
    env.push(`${alias}_ENV_${key}=${kv.slice(eq + 1)}`);
  }
  return env;
}
