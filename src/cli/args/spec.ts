/**
 * Declarative command and flag specs for the berth CLI, modelled on cobra/pflag as the docker
 * CLI uses them, and the UsageError every parse failure becomes.
 */

/** bool, string, repeatable string (docker's ListOpts / pflag stringArray), int (pflag int). */
export type FlagKind = 'bool' | 'string' | 'string[]' | 'int';

/** Another name a flag answers to. A string is a silent hidden alias (docker's `--net`). */
export type FlagAlias = string | { name: string; deprecated: string };

export interface FlagSpec {
  /** Long name without dashes; also the key in ParsedArgs.flags. */
  name: string;
  /** One-letter shorthand, e.g. 'd' for -d. */
  short?: string;
  kind: FlagKind;
  /** Default value; when omitted: false, '', [] or 0 by kind. */
  default?: boolean | string | readonly string[] | number;
  description: string;
  /** Type word shown in help after the flag (pflag's varname): 'list', 'filter', 'bytes', 'duration'... */
  valueName?: string;
  /** Not listed in help (still accepted). */
  hidden?: boolean;
  /**
   * Deprecated and hidden; using it prints pflag's `Flag --x has been deprecated, MESSAGE`
   * (collected in ParsedArgs.warnings).
   */
  deprecated?: string;
  /** Alternative long names stored under `name` (e.g. `net` for `network`, `time` for `timeout`). */
  aliases?: readonly FlagAlias[];
  /**
   * Validates one value as it is parsed (pflag's Value.Set): throws an Error whose message is the
   * reason, which the parser reports as `invalid argument "V" for "-m, --memory" flag: REASON`
   * before any argument-count check, as docker does.
   */
  check?: (value: string) => void;
}

export interface CommandSpec {
  /** Command path after the program name: 'run', 'container ls', 'network create'. */
  name: string;
  /** What follows the command path in the usage line: '[OPTIONS] IMAGE [COMMAND] [ARG...]'. */
  usage: string;
  /** One-line description (cobra's Short), printed in help and in argument-count errors. */
  description: string;
  /**
   * The command paths listed under "Aliases:" in help, in order and without the program name,
   * e.g. ['container ls', 'container list', 'container ps', 'ps'].
   */
  aliases?: readonly string[];
  flags: readonly FlagSpec[];
  /**
   * pflag's SetInterspersed. Default true: flags may follow positionals. false for commands that
   * take a command line after the image or container (run, create, exec): the first positional
   * argument ends flag parsing, so `berth run busybox ls -l` passes `-l` to the container.
   */
  interspersed?: boolean;
  /** Argument-count limits checked after parsing, with docker's wording. */
  minArgs?: number;
  maxArgs?: number;
}

export type FlagValue = boolean | string | string[] | number;

/** The result of parseArgs. */
export interface ParsedArgs {
  /** Every flag of the spec by long name: the parsed value or its default. */
  flags: Record<string, FlagValue>;
  /** Positional arguments in order (for interspersed=false, everything from the first positional on). */
  args: string[];
  /** Long names of the flags given on the command line (pflag's Changed), e.g. to tell `-t 0` from unset. */
  changed: Set<string>;
  /** -h/--help was given: print helpText and exit 0 (no argument-count check was done). */
  help: boolean;
  /** Deprecation notices to print on stderr, as pflag does. */
  warnings: string[];
}

/**
 * A flag-level error found while a command runs (docker reports these as cobra flag errors):
 * main prints the message, the usage line and "Run 'berth CMD --help' for more information", exit 125.
 */
export class FlagError extends Error {
  override name = 'FlagError';
}

/**
 * A command-line usage error. `message` is exactly what docker CLI 28 prints (e.g.
 * "unknown flag: --foo\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help'
 * for more information"); `reason` is the first line alone; `exitCode` is what docker exits with
 * (125 for flag errors, 1 for argument counts and unknown commands).
 */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly reason: string, readonly exitCode: number) { super(message); }
}
