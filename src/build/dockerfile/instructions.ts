/**
 * The Dockerfile parser's second pass (BuildKit's dockerfile/instructions/parse.go): a RawNode →
 * a typed instruction of ast.ts, with argument counts, builder flags and stage names checked in
 * Docker's words. Throws LineError; parse.ts adds the line.
 */
import type { CommandForm, HealthcheckOptions, Instruction, InstructionFlags } from './ast.ts';
import { parseGoDuration } from '../../lib/go-duration.ts';
import { parseHeredocWord } from './heredoc-words.ts';
import { goQuote, LineError, type RawNode } from './line-parsers.ts';

const INSTRUCTIONS = ['add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir'] as const;

type FlagType = 'bool' | 'string' | 'strings';

/**
 * Docker's BFlags.Parse: each flag once (list flags repeat), string flags need `=value`, booleans
 * take nothing or true/false. Returns the flags as written (name without dashes).
 */
function parseFlags(raw: readonly string[], allowed: Readonly<Record<string, FlagType>>): InstructionFlags {
  const out: Array<{ name: string; value: string | undefined }> = [];
  const used = new Set<string>();
  for (const a of raw) {
    if (a === '--') break;
    if (!a.startsWith('--')) throw new LineError(`arg should start with -- : ${a}`);
    const eq = a.indexOf('=');
    const flagName = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    const name = flagName.slice(2);
    const type = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
    if (!type) throw new LineError(`unknown flag: ${flagName}${suggestion(name, Object.keys(allowed), true)}`);
    if (used.has(name) && type !== 'strings') throw new LineError(`duplicate flag specified: ${flagName}`);
    used.add(name);
    if (type === 'bool') {
      if (value === '') throw new LineError(`missing a value on flag: ${flagName}`);
      const v = (value ?? '').toLowerCase();
      if (v !== '' && v !== 'true' && v !== 'false') throw new LineError(`expecting boolean value for flag ${flagName}, not: ${value}`);
      out.push({ name, value: v === 'false' ? 'false' : 'true' });
    } else {
      if (value === undefined) throw new LineError(`missing a value on flag: ${flagName}`);
      out.push({ name, value });
    }
  }
  return out;
}

const NO_FLAGS: Record<string, FlagType> = {};
const FLAGS = {
  ADD: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings' },
  COPY: { chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' },
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
} as const satisfies Record<string, Record<string, FlagType>>;

/** Docker's " (did you mean X?)" hint: the closest candidate within edit distance 2. */
function suggestion(value: string, options: readonly string[], caseSensitive: boolean): string {
  const v = caseSensitive ? value : value.toLowerCase();
  let match = '';
  let best = 3;
  for (const option of options) {
    const o = caseSensitive ? option : option.toLowerCase();
    if (o === v) return '';
    const d = levenshtein(v, o);
    if (d < best) { best = d; match = o; }
  }
  if (!match) return '';
  if (!caseSensitive) {
    if (value === value.toLowerCase()) match = match.toLowerCase();
    else if (value === value.toUpperCase()) match = match.toUpperCase();
  }
  return ` (did you mean ${match}?)`;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

const atLeastOne = (c: string) => new LineError(`${c} requires at least one argument`);
const exactlyOne = (c: string) => new LineError(`${c} requires exactly one argument`);
const noDestination = (c: string) =>
  new LineError(`${c} requires at least two arguments, but only one was provided. Destination could not be determined`);

const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function commandForm(node: RawNode): CommandForm {
  return node.json ? { kind: 'exec', args: [...node.args] } : { kind: 'shell', command: node.args.join(' ') };
}

/** The fields every instruction has, with its flags. */
type Base = (flags: InstructionFlags) => Pick<Instruction, 'loc' | 'flags' | 'original'>;

/** One RawNode as the typed instruction of its kind; LineError with Docker's words. */
export function toInstruction(node: RawNode): Instruction {
  const base: Base = (flags) => ({ loc: { line: node.startLine, endLine: node.endLine }, flags, original: node.original.trim() });
  const { args } = node;
  const kind = node.cmd.toUpperCase();
  switch (kind) {
    case 'FROM':
      return from(node, base);
    case 'ENV': case 'LABEL': {
      const flags = parseFlags(node.flags, NO_FLAGS);
      const pairs = node.kv ?? [];
      if (pairs.length === 0) throw atLeastOne(kind);
      if (pairs.some((p) => p.key === '')) throw new LineError(`${kind} names can not be blank`);
      return { ...base(flags), kind, pairs: pairs.map((p) => ({ ...p })) };
    }
    case 'MAINTAINER':
      if (args.length !== 1) throw exactlyOne(kind);
      return { ...base(parseFlags(node.flags, NO_FLAGS)), kind, name: args[0]! };
    case 'ADD': case 'COPY':
      return addOrCopy(node, kind, base);
    case 'ONBUILD':
      return onbuild(node, base);
    case 'WORKDIR':
      if (args.length !== 1) throw exactlyOne(kind);
      return { ...base(parseFlags(node.flags, NO_FLAGS)), kind, path: args[0]! };
    case 'RUN':
      return run(node, base);
    case 'CMD':
      return { ...base(parseFlags(node.flags, NO_FLAGS)), kind, command: commandForm(node) };
    case 'ENTRYPOINT': {
      const flags = parseFlags(node.flags, NO_FLAGS);
      // Docker: an ENTRYPOINT without arguments (either form) resets it.
      const command: CommandForm = args.length === 0 ? { kind: 'exec', args: [] } : commandForm(node);
      return { ...base(flags), kind, command };
    }
    case 'HEALTHCHECK':
      return healthcheck(node, base);
    case 'EXPOSE': {
      if (args.length === 0) throw atLeastOne(kind);
      const flags = parseFlags(node.flags, NO_FLAGS);
      return { ...base(flags), kind, ports: [...args].sort() };
    }
    case 'USER':
      if (args.length !== 1) throw exactlyOne(kind);
      return { ...base(parseFlags(node.flags, NO_FLAGS)), kind, user: args[0]! };
    case 'VOLUME': {
      if (args.length === 0) throw atLeastOne(kind);
      const flags = parseFlags(node.flags, NO_FLAGS);
      const paths = args.map((v) => v.trim());
      if (paths.some((p) => p === '')) throw new LineError('VOLUME specified can not be an empty string');
      return { ...base(flags), kind, paths };
    }
    case 'STOPSIGNAL':
      // Docker never parses STOPSIGNAL's (or ARG's) flags: they are accepted and ignored.
      if (args.length !== 1) throw exactlyOne(kind);
      return { ...base(rawFlags(node.flags)), kind, signal: args[0]! };
    case 'ARG':
      return arg(node, base);
    case 'SHELL': {
      const flags = parseFlags(node.flags, NO_FLAGS);
      if (args.length === 0) throw atLeastOne(kind);
      if (!node.json) throw new LineError('SHELL requires the arguments to be in JSON form');
      return { ...base(flags), kind, args: [...args] };
    }
    default: {
      const upper = INSTRUCTIONS.map((i) => i.toUpperCase());
      throw new LineError(`unknown instruction: ${node.cmd}${suggestion(node.cmd, upper, false)}`);
    }
  }
}

function from(node: RawNode, base: Base): Instruction {
  const { args } = node;
  let stageName: string | undefined;
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    stageName = args[2]!.toLowerCase();
    if (!VALID_STAGE_NAME.test(stageName)) {
      throw new LineError(`invalid name for build stage: ${goQuote(args[2]!)}, name can't start with a number or contain symbols`);
    }
  } else if (args.length !== 1) {
    throw new LineError('FROM requires either one or three arguments');
  }
  const flags = parseFlags(node.flags, FLAGS.FROM);
  return { ...base(flags), kind: 'FROM', image: args[0]!, ...(stageName !== undefined ? { stageName } : {}) };
}

function addOrCopy(node: RawNode, kind: 'ADD' | 'COPY', base: Base): Instruction {
  const { args } = node;
  if (args.length < 2) throw noDestination(kind);
  const flags = parseFlags(node.flags, FLAGS[kind]);
  const dest = args[args.length - 1]!;
  if (parseHeredocWord(dest)) throw new LineError(`${kind} cannot accept a heredoc as a destination`);
  const sources = args.slice(0, -1).map((s) => (node.heredocs.length > 0 ? parseHeredocWord(s)?.name : undefined) ?? s);
  return { ...base(flags), kind, sources, dest, heredocs: node.heredocs };
}

function onbuild(node: RawNode, base: Base): Instruction {
  if (node.args.length === 0) throw atLeastOne('ONBUILD');
  const flags = parseFlags(node.flags, NO_FLAGS);
  const trigger = node.args[0]!.trim().toUpperCase();
  if (trigger === 'ONBUILD') throw new LineError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new LineError(`${trigger} isn't allowed as an ONBUILD trigger`);
  let text = node.original.replace(/^\s*ONBUILD\s*/i, '');
  for (const doc of node.heredocs) text += `\n${doc.content}${doc.name}`;
  return { ...base(flags), kind: 'ONBUILD', trigger: text };
}

function run(node: RawNode, base: Base): Instruction {
  const flags = parseFlags(node.flags, FLAGS.RUN);
  for (const f of flags) {
    if (f.name === 'network' && !['default', 'none', 'host'].includes(f.value ?? '')) {
      throw new LineError(`invalid network mode ${goQuote(f.value ?? '')}`);
    }
    if (f.name === 'security' && !['sandbox', 'insecure'].includes(f.value ?? '')) {
      throw new LineError(`security ${goQuote(f.value ?? '')} is not valid`);
    }
  }
  return { ...base(flags), kind: 'RUN', command: commandForm(node), heredocs: node.heredocs };
}

function arg(node: RawNode, base: Base): Instruction {
  if (node.args.length === 0) throw atLeastOne('ARG');
  const parsed = node.args.map((a) => {
    const eq = a.indexOf('=');
    if (eq < 0) return { name: a };
    if (eq === 0) throw new LineError('ARG names can not be blank');
    return { name: a.slice(0, eq), defaultValue: a.slice(eq + 1) };
  });
  return { ...base(rawFlags(node.flags)), kind: 'ARG', args: parsed };
}

function rawFlags(raw: readonly string[]): InstructionFlags {
  return raw.map((a) => {
    const body = a.replace(/^--/, '');
    const eq = body.indexOf('=');
    return eq < 0 ? { name: body, value: undefined } : { name: body.slice(0, eq), value: body.slice(eq + 1) };
  });
}

function healthcheck(node: RawNode, base: Base): Instruction {
  const [type, ...rest] = node.args;
  if (type === undefined) throw atLeastOne('HEALTHCHECK');
  const upper = type.toUpperCase();
  if (upper === 'NONE') {
    if (rest.length !== 0) throw new LineError('HEALTHCHECK NONE takes no arguments');
    return { ...base(rawFlags(node.flags)), kind: 'HEALTHCHECK', test: { kind: 'none' }, options: {} };
  }
  const flags = parseFlags(node.flags, FLAGS.HEALTHCHECK);
  if (upper !== 'CMD') throw new LineError(`Unknown type ${goQuote(upper)} in HEALTHCHECK (try CMD)`);
  if (rest.length === 0) throw new LineError('Missing command after HEALTHCHECK CMD');
  const command: CommandForm = node.json ? { kind: 'exec', args: rest } : { kind: 'shell', command: rest.join(' ') };
  const options: HealthcheckOptions = {};
  const value = (name: string) => flags.find((f) => f.name === name)?.value;
  const interval = (name: string): number | undefined => {
    const v = value(name);
    if (v === undefined || v === '') return undefined;
    let ns: number;
    try {
      ns = parseGoDuration(v);
    } catch (err) {
      throw new LineError((err as Error).message);
    }
    if (ns === 0) return undefined;
    if (ns < 1_000_000) throw new LineError(`Interval ${goQuote(name)} cannot be less than 1ms`);
    return ns;
  };
  const set = (key: keyof HealthcheckOptions, v: number | undefined) => { if (v !== undefined) options[key] = v; };
  set('intervalNs', interval('interval'));
  set('timeoutNs', interval('timeout'));
  set('startPeriodNs', interval('start-period'));
  set('startIntervalNs', interval('start-interval'));
  const retries = value('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) {
      const why = /^[+-]?\d+$/.test(retries) ? 'value out of range' : 'invalid syntax';
      throw new LineError(`strconv.ParseInt: parsing ${goQuote(retries)}: ${why}`);
    }
    const n = Number(retries);
    if (n < 0) throw new LineError(`--retries cannot be negative (${n})`);
    options.retries = n;
  }
  return { ...base(flags), kind: 'HEALTHCHECK', test: { kind: 'cmd', command }, options };
}
