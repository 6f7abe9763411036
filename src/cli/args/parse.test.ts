import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkArgCount, flagBool, flagInt, flagList, flagString, helpText, parseArgs, UsageError, type CommandSpec } from './parse.ts';

const run: CommandSpec = {
  name: 'run',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create and run a new container from an image',
  aliases: ['container run', 'run'],
  interspersed: false,
  minArgs: 1,
  flags: [
    { name: 'detach', short: 'd', kind: 'bool', description: 'Run container in background and print container ID' },
    { name: 'interactive', short: 'i', kind: 'bool', description: 'Keep STDIN open even if not attached' },
    { name: 'tty', short: 't', kind: 'bool', description: 'Allocate a pseudo-TTY' },
    { name: 'env', short: 'e', kind: 'string[]', description: 'Set environment variables' },
    { name: 'publish', short: 'p', kind: 'string[]', description: "Publish a container's port(s) to the host" },
    { name: 'name', kind: 'string', description: 'Assign a name to the container' },
    { name: 'network', kind: 'string', valueName: 'network', description: 'Connect a container to a network', aliases: ['net'] },
    { name: 'rm', kind: 'bool', description: 'Automatically remove the container and its associated anonymous volumes when it exits' },
    { name: 'stop-timeout', kind: 'int', description: 'Timeout (in seconds) to stop a container' },
    { name: 'pull', kind: 'string', default: 'missing', description: 'Pull image before running ("always", "missing", "never")' },
    { name: 'secret-thing', kind: 'bool', hidden: true, description: 'hidden' },
  ],
};

const ps: CommandSpec = {
  name: 'ps', usage: '[OPTIONS]', description: 'List containers', maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', kind: 'string[]', valueName: 'filter', description: 'Filter output based on conditions provided' },
    { name: 'last', short: 'n', kind: 'int', default: -1, description: 'Show n last created containers (includes all states)' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Only display container IDs' },
  ],
};

const stop: CommandSpec = {
  name: 'stop', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Stop one or more running containers', minArgs: 1,
  flags: [{ name: 'timeout', short: 't', kind: 'int', description: 'Seconds to wait before killing the container', aliases: [{ name: 'time', deprecated: 'use --timeout instead' }] }],
};

const usageError = (spec: CommandSpec, argv: string[]): UsageError => {
  try {
    parseArgs(spec, argv);
  } catch (e) {
    assert.ok(e instanceof UsageError);
    return e;
  }
  return assert.fail('expected a UsageError');
};

test('defaults fill every flag', () => {
  const p = parseArgs(run, ['busybox']);
  assert.deepEqual(p.flags, { detach: false, interactive: false, tty: false, env: [], publish: [], name: '', network: '', rm: false, 'stop-timeout': 0, pull: 'missing', 'secret-thing': false });
  assert.deepEqual(p.args, ['busybox']);
  assert.equal(p.changed.size, 0);
});

test('combined shorthands -it and -itd', () => {
  const p = parseArgs(run, ['-itd', 'busybox']);
  assert.equal(flagBool(p, 'interactive'), true);
  assert.equal(flagBool(p, 'tty'), true);
  assert.equal(flagBool(p, 'detach'), true);
});

test('shorthand values: -p8080:80, -p 9090:90, -p=7070:70, and -dp 1:1', () => {
  const p = parseArgs(run, ['-p8080:80', '-p', '9090:90', '-p=7070:70', '-dp', '1:1', 'img']);
  assert.deepEqual(flagList(p, 'publish'), ['8080:80', '9090:90', '7070:70', '1:1']);
  assert.equal(flagBool(p, 'detach'), true);
});

test('long values: --name=x, --name x, --env repeated, --rm=false', () => {
  const p = parseArgs(run, ['--name=x', '--env', 'A=1', '--env=B=2', '--rm=false', '--name', 'y', 'img']);
  assert.equal(flagString(p, 'name'), 'y');
  assert.deepEqual(flagList(p, 'env'), ['A=1', 'B=2']);
  assert.equal(flagBool(p, 'rm'), false);
  assert.deepEqual([...p.changed].sort(), ['env', 'name', 'rm']);
});

test('bool flags accept strconv.ParseBool spellings after =', () => {
  for (const [v, want] of [['1', true], ['t', true], ['TRUE', true], ['0', false], ['F', false], ['False', false]] as const) {
    assert.equal(flagBool(parseArgs(run, [`--rm=${v}`, 'img']), 'rm'), want);
  }
  assert.equal(flagBool(parseArgs(run, ['-d=false', 'img']), 'detach'), false);
});

test('interspersed=false: the first positional ends flag parsing', () => {
  const p = parseArgs(run, ['--rm', 'busybox', 'ls', '-l', '--rm']);
  assert.deepEqual(p.args, ['busybox', 'ls', '-l', '--rm']);
  assert.equal(flagBool(p, 'rm'), true);
});

test('interspersed (default): flags may follow positionals', () => {
  const p = parseArgs(stop, ['web', '-t', '3', 'db']);
  assert.deepEqual(p.args, ['web', 'db']);
  assert.equal(flagInt(p, 'timeout'), 3);
});

test('-- ends flags; a lone - is a positional', () => {
  assert.deepEqual(parseArgs(run, ['-d', '--', '--img', '-x']).args, ['--img', '-x']);
  assert.deepEqual(parseArgs(stop, ['-', '--', '-t']).args, ['-', '-t']);
});

test('aliases: --net stores under network; deprecated --time warns like pflag', () => {
  assert.equal(flagString(parseArgs(run, ['--net', 'host', 'img']), 'network'), 'host');
  const p = parseArgs(stop, ['--time', '5', 'c']);
  assert.equal(flagInt(p, 'timeout'), 5);
  assert.deepEqual(p.warnings, ['Flag --time has been deprecated, use --timeout instead']);
});

test('int flags: negative, hex, octal like strconv.ParseInt(s, 0, 64)', () => {
  assert.equal(flagInt(parseArgs(ps, ['-n', '-1']), 'last'), -1);
  assert.equal(flagInt(parseArgs(ps, ['--last=0x10']), 'last'), 16);
  assert.equal(flagInt(parseArgs(ps, ['-n010']), 'last'), 8);
  assert.equal(flagInt(parseArgs(ps, ['-n', '1_000']), 'last'), 1000);
  assert.equal(flagInt(parseArgs(ps, []), 'last'), -1);
});

test('-h and --help request help instead of parsing further', () => {
  assert.equal(parseArgs(run, ['--help']).help, true);
  assert.equal(parseArgs(ps, ['-ah']).help, true);
  assert.equal(parseArgs(run, ['img', '--help']).help, false); // goes to the container command
});

test('unknown flags', () => {
  // docker CLI 28's cli.FlagErrorFunc: reason, usage line, "Run '... --help' for more information".
  assert.equal(usageError(run, ['--foo']).message, "unknown flag: --foo\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information");
  assert.equal(usageError(run, ['--foo=bar']).reason, 'unknown flag: --foo');
  assert.equal(usageError(run, ['-z']).reason, "unknown shorthand flag: 'z' in -z");
  assert.equal(usageError(run, ['-iz']).reason, "unknown shorthand flag: 'z' in -z");
  assert.equal(usageError(run, ['---x']).reason, 'bad flag syntax: ---x');
  assert.equal(usageError(run, ['--foo']).exitCode, 125);
});

test('missing values', () => {
  assert.equal(usageError(run, ['--name']).reason, 'flag needs an argument: --name');
  assert.equal(usageError(run, ['-e']).reason, "flag needs an argument: 'e' in -e");
  assert.equal(usageError(run, ['-ie']).reason, "flag needs an argument: 'e' in -e");
});

test('invalid values name the flag as pflag does', () => {
  assert.equal(usageError(ps, ['-n', 'x']).reason, 'invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax');
  assert.equal(usageError(ps, ['--last', '99999999999999999999']).reason,
    'invalid argument "99999999999999999999" for "-n, --last" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range');
  assert.equal(usageError(run, ['--stop-timeout=1.5', 'i']).reason, 'invalid argument "1.5" for "--stop-timeout" flag: strconv.ParseInt: parsing "1.5": invalid syntax');
  assert.equal(usageError(run, ['--rm=maybe', 'i']).reason, 'invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
});

test('argument counts use docker CLI 28\'s wording (cli/required.go)', () => {
  const rm: CommandSpec = { name: 'rm', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Remove one or more containers', minArgs: 1, flags: [] };
  const e = usageError(rm, []);
  assert.equal(e.message, "berth: 'berth rm' requires at least 1 argument\n\nUsage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth rm --help' for more information");
  assert.equal(e.exitCode, 1);
  assert.equal(usageError(ps, ['x']).message, "berth: 'berth ps' accepts no arguments\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information");
  const exact = { ...rm, name: 'rename', usage: 'CONTAINER NEW_NAME', minArgs: 2, maxArgs: 2 };
  assert.equal(usageError(exact, ['a']).reason, "'berth rename' requires 2 arguments");
  const range = { ...rm, name: 'cp', minArgs: 1, maxArgs: 2 };
  assert.equal(usageError(range, ['a', 'b', 'c']).reason, "'berth cp' requires at least 1 and at most 2 arguments");
  const most = { ...rm, name: 'x', minArgs: undefined, maxArgs: 1 };
  assert.equal(usageError(most, ['a', 'b']).reason, "'berth x' requires at most 1 argument");
  assert.doesNotThrow(() => checkArgCount(range, ['a', 'b']));
});

test('messages name the command path the user typed, once', () => {
  const ls = { ...ps, name: 'ps', aliases: ['container ls', 'container list', 'container ps'] };
  let e: UsageError | undefined;
  try { parseArgs(ls, ['x'], 'container ls'); } catch (err) { e = err as UsageError; }
  assert.equal(e?.message, "berth: 'berth container ls' accepts no arguments\n\nUsage:  berth container ls [OPTIONS]\n\nRun 'berth container ls --help' for more information");
  try { parseArgs(ls, ['--nope'], 'container ls'); } catch (err) { e = err as UsageError; }
  assert.equal(e?.message, "unknown flag: --nope\n\nUsage:  berth container ls [OPTIONS]\n\nRun 'berth container ls --help' for more information");
  assert.match(helpText(ls, { path: 'container ls' }), /^Usage: {2}berth container ls \[OPTIONS\]\n\nList containers\n\nAliases:\n {2}berth container ls, berth container list, berth container ps, berth ps\n/);
});

test('a flag\'s check runs as the value is parsed, before argument counts, naming the flag as pflag does', () => {
  const spec: CommandSpec = {
    ...run,
    flags: [...run.flags, { name: 'memory', short: 'm', kind: 'string', description: 'Memory limit', check: (v) => { if (!/^\d+[kmg]?$/.test(v)) throw new Error(`invalid size: '${v}'`); } },
      { name: 'label', kind: 'string[]', description: 'labels', check: (v) => { if (v.startsWith('=')) throw new Error('empty name'); } }],
  };
  assert.equal(usageError(spec, ['-m', 'abc']).reason, 'invalid argument "abc" for "-m, --memory" flag: invalid size: \'abc\'');
  assert.equal(usageError(spec, ['--memory=abc', 'img']).reason, 'invalid argument "abc" for "-m, --memory" flag: invalid size: \'abc\'');
  assert.equal(usageError(spec, ['-mabc']).exitCode, 125);
  assert.equal(usageError(spec, ['--label', 'a', '--label', '=x']).reason, 'invalid argument "=x" for "--label" flag: empty name');
  assert.equal(parseArgs(spec, ['-m', '64m', 'img']).flags['memory'], '64m');
});

test('help text in docker\'s layout', () => {
  assert.equal(helpText(run), `Usage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create and run a new container from an image

Aliases:
  berth container run, berth run

Options:
  -d, --detach             Run container in background and print container ID
  -e, --env list           Set environment variables
  -i, --interactive        Keep STDIN open even if not attached
      --name string        Assign a name to the container
      --network network    Connect a container to a network
  -p, --publish list       Publish a container's port(s) to the host
      --pull string        Pull image before running ("always",
                           "missing", "never") (default "missing")
      --rm                 Automatically remove the container and its
                           associated anonymous volumes when it exits
      --stop-timeout int   Timeout (in seconds) to stop a container
  -t, --tty                Allocate a pseudo-TTY
`);
});

test('help text: non-zero int default, no aliases, wide terminal does not wrap', () => {
  assert.equal(helpText(ps, { width: 200 }), `Usage:  berth ps [OPTIONS]

List containers

Options:
  -a, --all             Show all containers (default shows just running)
  -f, --filter filter   Filter output based on conditions provided
  -n, --last int        Show n last created containers (includes all states) (default -1)
  -q, --quiet           Only display container IDs
`);
});

test('help text: deprecated aliases and deprecated flags are not listed', () => {
  const text = helpText(stop);
  assert.match(text, /-t, --timeout int {3}Seconds to wait before killing the container/);
  assert.doesNotMatch(text, /--time /);
});
