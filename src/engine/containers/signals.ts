import { EngineError } from '../../lib/errors.ts';

// Signal names as dockerd reads them (moby/sys/signal's Linux table).

const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10,
  SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19,
  SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28,
  SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

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

/** Other names Linux (and Docker's signal table) give the same signals. */
const SIGNAL_ALIASES: Record<string, string> = { SIGIOT: 'SIGABRT', SIGCLD: 'SIGCHLD', SIGPOLL: 'SIGIO' };

export const signalNumberOf = (name: string): number => SIGNALS[name] ?? Number(name);
