/**
 * The parsed form of a Dockerfile: what the parser (parse.ts) produces and the builder
 * (src/build/executor) consumes. Variable substitution is NOT applied here: words keep their
 * `$VAR` text, because which variables are in scope is only known while building (ARG/ENV per
 * stage); the builder calls `expand` (substitute.ts) where Docker applies it.
 *
 * Words are kept RAW, quotes and escapes included (`ENV a="x y"` gives value `"x y"`): Docker removes
 * quotes in the same pass that expands variables, so `expand` both substitutes and unquotes. The
 * exceptions, already decoded: JSON (exec) form arrays, and flag values (`--chown="a b"` → `a b`,
 * as Docker's flag extraction unquotes them; variables in them are still unexpanded).
 */

/** Where an instruction came from, for errors that point at the Dockerfile line. */
export interface SourceLocation {
  /** 1-based line of the instruction's first line. */
  line: number;
  /** 1-based line of its last line (continuations, heredocs). */
  endLine: number;
}

/** `--name=value` flags before an instruction's arguments (`COPY --from=build --chown=1:1`). */
export type InstructionFlags = ReadonlyArray<{ name: string; value: string | undefined }>;

/** A here-document attached to RUN/COPY/ADD (`RUN <<EOF`, `COPY <<file.txt /dst`). */
export interface Heredoc {
  /** The delimiter word, without quotes: `EOF`. */
  name: string;
  /** The body, lines joined with "\n", ending with "\n" unless empty (tabs already stripped when `chomp`). */
  content: string;
  /** `<<-EOF`: leading tabs stripped from each body line (the parser has done it in `content`). */
  chomp: boolean;
  /** The delimiter was quoted (`<<"EOF"`): no variable expansion in the body. */
  quoted: boolean;
}

/**
 * HEALTHCHECK flags, validated and converted as Docker does (durations in nanoseconds, like the API's
 * HealthConfig). Absent when the flag was not given (or for HEALTHCHECK NONE, whose flags are ignored).
 */
export interface HealthcheckOptions {
  intervalNs?: number;
  timeoutNs?: number;
  startPeriodNs?: number;
  startIntervalNs?: number;
  retries?: number;
}

/** RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK CMD argument forms. */
export type CommandForm =
  | { kind: 'exec'; args: string[] }
  | { kind: 'shell'; command: string };

interface Base {
  loc: SourceLocation;
  flags: InstructionFlags;
  /** The instruction as written, continuations joined (for history's created_by and errors). */
  original: string;
}

export type Instruction =
  | Base & { kind: 'FROM'; image: string; stageName?: string }
  | Base & { kind: 'RUN'; command: CommandForm; heredocs: Heredoc[] }
  | Base & { kind: 'CMD'; command: CommandForm }
  | Base & { kind: 'ENTRYPOINT'; command: CommandForm }
  | Base & { kind: 'SHELL'; args: string[] }
  | Base & { kind: 'ENV'; pairs: Array<{ key: string; value: string }> }
  | Base & { kind: 'ARG'; args: Array<{ name: string; defaultValue?: string }> }
  | Base & { kind: 'LABEL'; pairs: Array<{ key: string; value: string }> }
  | Base & { kind: 'EXPOSE'; ports: string[] }
  | Base & { kind: 'VOLUME'; paths: string[] }
  | Base & { kind: 'USER'; user: string }
  | Base & { kind: 'WORKDIR'; path: string }
  /** Sources and destination as written (quotes removed, JSON form decoded); heredoc sources by name. */
  | Base & { kind: 'COPY' | 'ADD'; sources: string[]; dest: string; heredocs: Heredoc[] }
  | Base & { kind: 'ONBUILD'; trigger: string }
  | Base & { kind: 'HEALTHCHECK'; test: { kind: 'none' } | { kind: 'cmd'; command: CommandForm }; options: HealthcheckOptions }
  | Base & { kind: 'STOPSIGNAL'; signal: string }
  | Base & { kind: 'MAINTAINER'; name: string };

export type InstructionKind = Instruction['kind'];

/** One FROM and what follows it up to the next FROM. */
export interface Stage {
  /** 0-based position in the file. */
  index: number;
  /** `AS name`, lowercased as Docker does; undefined when unnamed. */
  name?: string;
  from: Extract<Instruction, { kind: 'FROM' }>;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** `ARG` instructions before the first FROM (they scope only FROM lines). */
  metaArgs: Array<Extract<Instruction, { kind: 'ARG' }>>;
  stages: Stage[];
  /** The escape character from `# escape=` (default backslash). */
  escape: '\\' | '`';
  /** Notes for the user, e.g. that a `# syntax=` directive is ignored. */
  warnings: string[];
}
