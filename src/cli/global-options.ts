/**
 * The options before the command (`berth -H unix:///x.sock ps`), parsed as docker's root command
 * parses them: flags up to the first word that is not one, with pflag's errors.
 */
import { parseArgs, UsageError, type CommandSpec } from './args/parse.ts';

export const GLOBAL_SPEC: CommandSpec = {
  name: '', usage: '[OPTIONS] COMMAND [ARG...]', description: 'A Docker-compatible container engine', interspersed: false,
  flags: [
    { name: 'config', kind: 'string', description: 'Location of client config files (default "~/.docker")' },
    // Accepted so docker command lines keep working; berth has one context and no client log.
    { name: 'context', short: 'c', kind: 'string', description: 'Name of the context to use to connect to the daemon', hidden: true },
    { name: 'debug', short: 'D', kind: 'bool', description: 'Enable debug mode' },
    { name: 'host', short: 'H', kind: 'string[]', valueName: 'list', description: 'Daemon socket to connect to' },
    { name: 'log-level', short: 'l', kind: 'string', description: 'Set the logging level', hidden: true },
    { name: 'version', short: 'v', kind: 'bool', description: 'Print version information and quit' },
  ],
};

export interface GlobalOptions {
  /** -H, when given (docker allows one). */
  host?: string;
  config?: string;
  debug: boolean;
  version: boolean;
  help: boolean;
  /** The command and its arguments. */
  rest: string[];
}

/**
 * Splits the global options from the command line.
 * @throws UsageError as docker's root command reports a bad flag (exit 125), or for more than one -H (exit 1)
 */
export function parseGlobalOptions(argv: readonly string[]): GlobalOptions {
  const p = parseArgs(GLOBAL_SPEC, argv, '');
  const hosts = p.flags['host'] as string[];
  if (hosts.length > 1) throw new UsageError('berth: specify only one -H', 'specify only one -H', 1);
  return {
    ...(hosts[0] !== undefined ? { host: hosts[0] } : {}),
    ...(p.changed.has('config') ? { config: p.flags['config'] as string } : {}),
    debug: p.flags['debug'] === true, version: p.flags['version'] === true, help: p.help, rest: p.args,
  };
}
