import { constants } from 'node:os';
import { EngineError } from '../../lib/errors.ts';

// Signal names as dockerd reads them (moby/sys/signal's Linux table): Node's table of the host,
// without the names that are aliases of another (SIGIOT, SIGPOLL), so a number maps to one name.

/** Other names Linux (and Docker's signal table) give the same signals. */
const SIGNAL_ALIASES: Readonly<Record<string, string>> = { SIGIOT: 'SIGABRT', SIGCLD: 'SIGCHLD', SIGPOLL: 'SIGIO' };

const SIGNALS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(constants.signals).filter(([name]) => !(name in SIGNAL_ALIASES)),
);

/**
 * "TERM", "sigterm", "15" and "SIGTERM" all name SIGTERM; anything else is InvalidParameter with
 * dockerd's words (moby/sys/signal ParseSignal: `invalid signal: FOO`), for kill, stop and StopSignal.
 */
export function normalizeSignal(s: string): string {
  const t = s.trim().toUpperCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    const name = Object.entries(SIGNALS).find(([, v]) => v === n)?.[0];
    if (name) return name;
    // Docker passes any other number through; the runtime refuses what the kernel does not know.
    if (n > 0) return String(n);
    throw new EngineError('InvalidParameter', `invalid signal: ${s}`);
  }
  const name = t.startsWith('SIG') ? t : `SIG${t}`;
  if (name in SIGNALS) return name;
  if (name in SIGNAL_ALIASES) return SIGNAL_ALIASES[name]!;
  // Real-time signals by name: RTMIN (34), RTMIN+n, RTMAX (64), RTMAX-n.
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const n = (rt[1] === 'MIN' ? 34 : 64) + (rt[2] === '-' ? -1 : 1) * Number(rt[3] ?? 0);
    if (n >= 34 && n <= 64) return String(n);
  }
  throw new EngineError('InvalidParameter', `invalid signal: ${s}`);
}


export const signalNumberOf = (name: string): number => SIGNALS[name] ?? Number(name);
