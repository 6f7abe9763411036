/**
 * The `berth` CLI: global options, the command's lazy load, flag parsing, and every error as
 * docker CLI 28 prints it — one message and an exit status, never a stack trace (`-D` adds it).
 * The build bundles this module (dist/berth-cli.cjs); dist/berth.cjs runs it from V8's code cache
 * and calls `start` (see scripts/cli-launcher.cjs). Commands initialise only when used.
 */
import { checkArgCount, flagError, helpText, parseArgs, PROGRAM, UsageError } from './args/parse.ts';
import { FlagError } from './args/spec.ts';
import { findCommand, GROUPS } from './commands/index.ts';
import { ExitError, type CliContext, type Flags } from './context.ts';
import { parseGlobalOptions } from './global-options.ts';
import { cliStdout } from './stdout.ts';
import type { EngineClient } from '../client/client.ts';

const VERSION = '0.1.0';
let debug = false;

/** One line for the user; the stack only in debug mode (-D). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return debug && err.stack ? err.stack : err.message;
}

const stdout = cliStdout();
const out = (s: string): void => { stdout.write(s); };
const fail = (s: string): void => { process.stderr.write(s.endsWith('\n') ? s : `${s}\n`); };
/** docker wraps help to the terminal, 80 columns when there is none. */
const helpWidth = (): number => (process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 80);

/** `berth help [COMMAND...]`, `berth network` and `berth network --help`. */
async function printHelp(words: readonly string[]): Promise<number> {
  const found = findCommand(words);
  if (found && found.rest.length === 0) {
    out(helpText((await found.entry.load()).spec, { path: found.path, width: helpWidth() }));
    return 0;
  }
  const { groupHelp, mainHelp } = await import('./main-help.ts');
  if (words.length === 0) { out(mainHelp()); return 0; }
  if (words.length === 1 && GROUPS[words[0]!]) { out(await groupHelp(words[0]!)); return 0; }
  return unknownCommand(words);
}

/** docker CLI 28: `docker: unknown command: docker x` (exit 1); under a group, with its usage line. */
function unknownCommand(words: readonly string[]): number {
  const [first, second] = words;
  if (first !== undefined && GROUPS[first] && second !== undefined) {
    if (second.startsWith('-') && second !== '-') {
      fail(flagError({ name: first, usage: '', description: '', flags: [] }, second.startsWith('--') ? `unknown flag: ${second.split('=')[0]}` : `unknown shorthand flag: '${second[1]}' in ${second}`).message);
      return 125;
    }
    fail(`${PROGRAM}: unknown command: ${PROGRAM} ${first} ${second}\n\nUsage:  ${PROGRAM} ${first}\n\nRun '${PROGRAM} ${first} --help' for more information`);
    return 1;
  }
  fail(`${PROGRAM}: unknown command: ${PROGRAM} ${first ?? ''}\n\nRun '${PROGRAM} --help' for more information`);
  return 1;
}

/** Runs one berth command line (the arguments after the program name); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let g;
  try {
    g = parseGlobalOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) { fail(err.message); return err.exitCode; }
    throw err;
  }
  debug = g.debug;
  // docker's --config names the directory of config.json; berth reads credentials through DOCKER_CONFIG.
  if (g.config !== undefined) process.env['DOCKER_CONFIG'] = g.config;
  if (g.version && g.rest.length === 0) { out(`Berth version ${VERSION}\n`); return 0; }
  if (g.help || g.rest.length === 0) return printHelp([]);
  if (g.rest[0] === 'help') return printHelp(g.rest.slice(1));
  const found = findCommand(g.rest);
  if (!found) {
    const [first, second] = g.rest;
    if (GROUPS[first!] && (second === undefined || second === '--help' || second === '-h')) return printHelp([first!]);
    return unknownCommand(g.rest);
  }
  const { path, rest } = found;
  const entry = await found.entry.load();
  const spec = entry.spec;
  let parsed;
  try {
    parsed = parseArgs(spec, rest, path);
    if (parsed.help) { out(helpText(spec, { path, width: helpWidth() })); return 0; }
    checkArgCount(spec, parsed.args, path);
  } catch (err) {
    if (err instanceof UsageError) { fail(err.message); return err.exitCode; }
    throw err;
  }
  for (const w of parsed.warnings) fail(w);
  const clientModule = await import('../client/client.ts');
  let client: EngineClient | undefined;
  const connect = (): EngineClient => {
    const { host, source } = clientModule.daemonHost(g.host);
    return (client ??= new clientModule.EngineClient(host, source));
  };
  // A daemon address berth cannot use is one line and exit 1 before the command starts, as
  // docker's "Failed to initialize" (commands that need no daemon never look at it).
  if (!entry.daemonless) {
    try { connect(); } catch (err) {
      if (err instanceof clientModule.HostError) { fail(`${PROGRAM}: ${err.message}`); return 1; }
      throw err;
    }
  }
  const ctx: CliContext = {
    get client() { return connect(); },
    get stdout() { return stdout.stream(); },
    out,
    get stderr() { return process.stderr; },
    prog: PROGRAM,
    // Setting up stdin costs a few ms; most commands never read it.
    get stdin() { return process.stdin; },
  };
  const failStatus = entry.failStatus ?? 1;
  try {
    // Commands see a flag only when it was given or has a declared default, as unset ≠ zero.
    const flags: Flags = {};
    for (const fl of spec.flags) {
      if (parsed.changed.has(fl.name)) flags[fl.name] = parsed.flags[fl.name];
      else if (fl.default !== undefined) flags[fl.name] = fl.default;
    }
    await entry.run(ctx, flags, parsed.args);
    return 0;
  } catch (err) {
    if (err instanceof ExitError) { if (err.message) fail(err.message); return err.status; }
    if (err instanceof FlagError) { fail(flagError(spec, err.message, path).message); return 125; }
    if (err instanceof UsageError) { fail(err.message); return err.exitCode; }
    if (err instanceof clientModule.ApiError) { fail(`Error response from daemon: ${err.message}`); return failStatus; }
    fail(describe(err));
    return failStatus;
  }
}

/** Anything that escapes main (a bug, an error event nobody listened to): one line, exit 1. */
function fatal(err: unknown): void {
  fail(`${PROGRAM}: ${describe(err)}`);
  process.exit(1);
}

/** Runs the command line and exits with its status; anything that escapes is one line, exit 1. */
export function start(argv: string[]): void {
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  // Streams (stdin listeners, sockets) must not keep a finished command alive. Exiting at once,
  // before the event loop turns, also spares Node closing the daemon connection, which sets up
  // process.stderr (net.Socket's destroy compares itself with it) for nothing. ctx.out() has
  // written with write(2); the stdout stream may still hold what a slow pipe reader has not taken.
  main(argv).then(async (code) => {
    await stdout.flushed();
    process.exit(code);
  }, fatal);
}
