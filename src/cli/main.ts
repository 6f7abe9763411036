import { ApiError, EngineClient, resolveHost } from '../client/client.ts';
import { helpText, parseArgs, checkArgCount, UsageError, type CommandSpec } from './args/parse.ts';
import { ExitError, type CliContext, type Flags } from './context.ts';
import { FlagError } from './commands/container/run-flags.ts';
import { COMMANDS, type CommandEntry } from './commands/index.ts';

const MAIN_HELP = `
Usage:  berth [OPTIONS] COMMAND

A Docker-compatible container engine

Common Commands:
  run         Create and run a new container from an image
  exec        Execute a command in a running container
  ps          List containers
  build       Build an image from a Dockerfile
  images      List images
  pull        Download an image from a registry
  push        Upload an image to a registry
  version     Show the Berth version information
  info        Display system-wide information

Management Commands:
  container   Manage containers
  builder     Manage builds
  image       Manage images
  network     Manage networks
  registry    Run a registry server (serve, gc)
  system      Manage Berth
  volume      Manage volumes

Commands:
  attach      Attach local standard input, output, and error streams to a running container
  commit      Create a new image from a container's changes
  cp          Copy files/folders between a container and the local filesystem
  create      Create a new container
  diff        Inspect changes to files or directories on a container's filesystem
  export      Export a container's filesystem as a tar archive
  history     Show the history of an image
  import      Import the contents from a tarball to create a filesystem image
  inspect     Return low-level information on Docker objects
  kill        Kill one or more running containers
  load        Load an image from a tar archive or STDIN
  login       Authenticate to a registry
  logout      Log out from a registry
  logs        Fetch the logs of a container
  pause       Pause all processes within one or more containers
  port        List port mappings or a specific mapping for the container
  rename      Rename a container
  restart     Restart one or more containers
  rm          Remove one or more containers
  rmi         Remove one or more images
  save        Save one or more images to a tar archive (streamed to STDOUT by default)
  search      Search Docker Hub for images
  start       Start one or more stopped containers
  stop        Stop one or more running containers
  tag         Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
  top         Display the running processes of a container
  unpause     Unpause all processes within one or more containers
  wait        Block until one or more containers stop, then print their exit codes

Global Options:
  -D, --debug          Enable debug mode
  -H, --host string    Daemon socket to connect to
  -h, --help           Print usage
  -v, --version        Print version information and quit

Run 'berth COMMAND --help' for more information on a command.
`;

/** Group help titles that are not "Manage <group>s". */
const GROUP_TITLES: Record<string, string> = { builder: 'Manage builds', registry: 'Run and maintain a registry server', system: 'Manage Berth' };

/** Splits global options (before the command) from the rest. */
function globalOptions(argv: string[]): { host?: string; version: boolean; help: boolean; rest: string[] } {
  const o: { host?: string; version: boolean; help: boolean; rest: string[] } = { version: false, help: false, rest: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-H' || a === '--host') o.host = argv[++i];
    else if (a.startsWith('--host=')) o.host = a.slice(7);
    else if (a.startsWith('-H') && a.length > 2) o.host = a.slice(2);
    else if (a === '-D' || a === '--debug') continue;
    else if (a === '-l' || a === '--log-level' || a === '--config' || a === '--context' || a === '-c') i++;
    else if (a === '-v' || a === '--version') o.version = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else break;
  }
  o.rest = argv.slice(i);
  return o;
}

/** The longest command path that argv starts with ("image ls" before "image"). */
function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  for (const n of [2, 1]) {
    const path = argv.slice(0, n).join(' ');
    const entry = COMMANDS.get(path);
    if (entry && argv.length >= n) return { entry, rest: argv.slice(n) };
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const g = globalOptions(argv);
  if (g.version && g.rest.length === 0) { process.stdout.write('Berth version 0.1.0\n'); return 0; }
  if (g.rest.length === 0 || (g.help && g.rest.length === 0)) { process.stdout.write(MAIN_HELP); return 0; }
  const found = findCommand(g.rest);
  if (!found) {
    const group = ['builder', 'container', 'image', 'network', 'registry', 'system', 'volume'].includes(g.rest[0]!) ? g.rest[0] : undefined;
    if (group && (g.rest.length === 1 || g.rest[1] === '--help')) {
      const subs = [...COMMANDS.keys()].filter((k) => k.startsWith(`${group} `)).map((k) => `  ${k.slice(group.length + 1).padEnd(12)}${COMMANDS.get(k)!.spec.description}`);
      process.stdout.write(`\nUsage:  berth ${group} COMMAND\n\n${GROUP_TITLES[group] ?? `Manage ${group}s`}\n\nCommands:\n${[...new Set(subs)].join('\n')}\n\nRun 'berth ${group} COMMAND --help' for more information on a command.\n`);
      return 0;
    }
    process.stderr.write(`berth: '${g.rest.join(' ').split(' ').slice(0, group ? 2 : 1).join(' ')}' is not a berth command.\nSee 'berth --help'\n`);
    return 1;
  }
  const { entry, rest } = found;
  const spec: CommandSpec = entry.spec;
  let parsed;
  try {
    parsed = parseArgs(spec, rest);
    if (parsed.help) { process.stdout.write(helpText(spec)); return 0; }
    checkArgCount(spec, parsed.args);
  } catch (err) {
    if (err instanceof UsageError) { process.stderr.write(`${err.message}\n`); return err.exitCode; }
    throw err;
  }
  for (const w of parsed.warnings) process.stderr.write(`${w}\n`);
  const ctx: CliContext = {
    client: new EngineClient(resolveHost(g.host)), stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, prog: 'berth',
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
    if (err instanceof ExitError) { if (err.message) process.stderr.write(`${err.message}\n`); return err.status; }
    if (err instanceof FlagError) { process.stderr.write(`${err.message}\nSee 'berth ${spec.name} --help'.\n`); return 125; }
    if (err instanceof ApiError) { process.stderr.write(`Error response from daemon: ${err.message}\n`); return failStatus; }
    if (err instanceof UsageError) { process.stderr.write(`${err.message}\n`); return err.exitCode; }
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return failStatus;
  }
}

process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); });
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Streams (stdin listeners, sockets) must not keep a finished command alive.
  setImmediate(() => process.exit(code));
}, (err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
