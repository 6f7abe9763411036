import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindOf } from '../../lib/errors.ts';
import type { Instruction } from './ast.ts';
import { parseGoDuration } from '../../lib/go-duration.ts';
import { parseHeredocWord } from './heredoc-words.ts';
import { DockerfileParseError, parseDockerfile, parseInstructions } from './parse.ts';

/** The instructions of the only stage of `FROM scratch\n` + body. */
function body(text: string): Instruction[] {
  const df = parseDockerfile(`FROM scratch\n${text}`);
  assert.equal(df.stages.length, 1);
  return df.stages[0]!.instructions;
}
function one<K extends Instruction['kind']>(text: string, kind: K): Instruction & { kind: K } {
  const list = body(text);
  assert.equal(list.length, 1, `one instruction from ${JSON.stringify(text)}`);
  assert.equal(list[0]!.kind, kind);
  return list[0] as Instruction & { kind: K };
}
function fails(text: string, message: string, line?: number): void {
  assert.throws(() => parseDockerfile(text), (err: unknown) => {
    assert.ok(err instanceof DockerfileParseError, `not a parse error: ${String(err)}`);
    assert.equal(kindOf(err), 'InvalidParameter');
    assert.equal(err.message, message);
    if (line !== undefined) assert.equal(err.line, line);
    return true;
  });
}

test('stages, names lowercased, meta args, locations', () => {
  const df = parseDockerfile('ARG BASE=busybox\nARG V\nFROM $BASE AS Build\nRUN true\n\nfrom scratch\ncopy --from=build /a /b\n');
  assert.deepEqual(df.metaArgs.map((a) => a.args), [[{ name: 'BASE', defaultValue: 'busybox' }], [{ name: 'V' }]]);
  assert.equal(df.stages.length, 2);
  assert.equal(df.stages[0]!.name, 'build');
  assert.equal(df.stages[0]!.from.image, '$BASE');
  assert.equal(df.stages[0]!.index, 0);
  assert.equal(df.stages[1]!.name, undefined);
  assert.equal(df.stages[1]!.index, 1);
  assert.deepEqual(df.stages[0]!.from.loc, { line: 3, endLine: 3 });
  assert.deepEqual(df.stages[1]!.instructions[0]!.loc, { line: 7, endLine: 7 });
  assert.equal(df.escape, '\\');
  assert.deepEqual(df.warnings, []);
});

test('FROM --platform and its errors', () => {
  const df = parseDockerfile('FROM --platform=linux/amd64 alpine:3 as x\n');
  assert.deepEqual(df.stages[0]!.from.flags, [{ name: 'platform', value: 'linux/amd64' }]);
  fails('FROM\n', 'dockerfile parse error on line 1: FROM requires either one or three arguments', 1);
  fails('FROM a b\n', 'dockerfile parse error on line 1: FROM requires either one or three arguments');
  fails('FROM a AS b c\n', 'dockerfile parse error on line 1: FROM requires either one or three arguments');
  fails('FROM a AS 1x\n', 'dockerfile parse error on line 1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
  fails('FROM a AS b$c\n', 'dockerfile parse error on line 1: invalid name for build stage: "b$c", name can\'t start with a number or contain symbols');
  fails('FROM --foo=1 a\n', 'dockerfile parse error on line 1: unknown flag: --foo');
  fails('FROM --platfrm=x a\n', 'dockerfile parse error on line 1: unknown flag: --platfrm (did you mean platform?)');
  fails('FROM --platform a\n', 'dockerfile parse error on line 1: missing a value on flag: --platform');
  fails('FROM --platform=a --platform=b a\n', 'dockerfile parse error on line 1: duplicate flag specified: --platform');
});

test('instructions before FROM, empty files', () => {
  fails('RUN true\nFROM a\n', 'no build stage in current context', 1);
  fails('# just a comment\n\n', 'file with no instructions');
  fails('', 'file with no instructions');
  fails('FROM a\nFOOBAR x\n', 'dockerfile parse error on line 2: unknown instruction: FOOBAR');
  fails('FROM a\nRUNN x\n', 'dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)');
  fails('FROM a\ncopyy x y\n', 'dockerfile parse error on line 2: unknown instruction: copyy (did you mean copy?)');
});

test('the first pass fails before the second: a late heredoc error wins over an early unknown instruction', () => {
  fails('FROM a\nBOGUS\nRUN <<EOF\nno end\n', 'dockerfile parse error on line 3: unterminated heredoc');
});

test('instruction names are case-insensitive', () => {
  const list = body('rUn echo hi\nEnTrYpOiNt ["a"]\n');
  assert.deepEqual(list.map((i) => i.kind), ['RUN', 'ENTRYPOINT']);
});

test('comments only at line start, also inside continuations; empty continuation lines warn', () => {
  const run = one('RUN echo a \\\n  # a comment\n\n  && echo b # not a comment\n', 'RUN');
  assert.deepEqual(run.command, { kind: 'shell', command: 'echo a   && echo b # not a comment' });
  assert.deepEqual(run.loc, { line: 2, endLine: 5 });
  const df = parseDockerfile('FROM a\nRUN echo a \\\n\n  b\n');
  assert.equal(df.warnings.length, 1);
  assert.match(df.warnings[0]!, /^Empty continuation line found in: RUN echo a/);
});

test('line continuation: trailing blanks after the escape, escaped escape, continuation at EOF', () => {
  assert.deepEqual(one('RUN a \\  \t\nb\n', 'RUN').command, { kind: 'shell', command: 'a b' });
  assert.deepEqual(one('RUN a \\\n\\\nb\n', 'RUN').command, { kind: 'shell', command: 'a b' });
});

test('two or more escapes at line end do not continue the line (Docker regex quirk); EOF ends a continuation', () => {
  assert.deepEqual(body('RUN a\\\\\nRUN b\n').map((i) => i.original), ['RUN a\\\\', 'RUN b']);
  assert.deepEqual(body('RUN a\\\\\\\nRUN b\n').map((i) => i.original), ['RUN a\\\\\\', 'RUN b']);
  assert.deepEqual(one('RUN a \\', 'RUN').command, { kind: 'shell', command: 'a' });
  assert.deepEqual(one('RUN a \\\n', 'RUN').command, { kind: 'shell', command: 'a' });
});

test('CRLF line endings', () => {
  const df = parseDockerfile('FROM a\r\nRUN echo a \\\r\n b\r\nENV x=1\r\n');
  assert.deepEqual(df.stages[0]!.instructions.map((i) => i.original), ['RUN echo a  b', 'ENV x=1']);
});

test('parser directives: escape, syntax (warning), check, only at the top, once each', () => {
  const df = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\n# check=skip=all\nFROM a\nRUN echo a `\n  b\nCOPY C:\\x C:\\y\n');
  assert.equal(df.escape, '`');
  assert.equal(df.warnings.length, 1);
  assert.match(df.warnings[0]!, /syntax=docker\/dockerfile:1/);
  const [run, copy] = df.stages[0]!.instructions;
  assert.deepEqual(run && run.kind === 'RUN' && run.command, { kind: 'shell', command: 'echo a   b' });
  assert.deepEqual(copy && copy.kind === 'COPY' && [copy.sources, copy.dest], [['C:\\x'], 'C:\\y']);
  // Case and blanks: "#  ESCAPE = `" is a directive too.
  assert.equal(parseDockerfile('#  ESCAPE = `\nFROM a\n').escape, '`');
  assert.equal(parseDockerfile('# escape=\\\nFROM a\n').escape, '\\');
  // After another comment, a blank line or an instruction, it is a comment.
  assert.equal(parseDockerfile('# hello\n# escape=`\nFROM a\n').escape, '\\');
  assert.equal(parseDockerfile('\n# escape=`\nFROM a\n').escape, '\\');
  assert.equal(parseDockerfile('FROM a\n# escape=`\nRUN x\n').escape, '\\');
  // An unknown directive ends the directive block.
  assert.equal(parseDockerfile('# foo=bar\n# escape=`\nFROM a\n').escape, '\\');
  fails('# escape=x\nFROM a\n', 'dockerfile parse error on line 1: invalid escape token \'x\' does not match ` or \\');
  fails('# escape=`\n# escape=`\nFROM a\n', 'dockerfile parse error on line 2: only one escape parser directive can be used');
  fails('# syntax=a\n# SYNTAX=b\nFROM a\n', 'dockerfile parse error on line 2: only one syntax parser directive can be used');
});

test('byte order mark is ignored', () => {
  assert.equal(parseDockerfile('\uFEFF# escape=`\nFROM a\n').escape, '`');
});

test('RUN/CMD/ENTRYPOINT: exec form, shell form, invalid JSON falls back to shell form', () => {
  assert.deepEqual(one('RUN ["echo", "a b"]', 'RUN').command, { kind: 'exec', args: ['echo', 'a b'] });
  assert.deepEqual(one('CMD   [ "x" ]  ', 'CMD').command, { kind: 'exec', args: ['x'] });
  assert.deepEqual(one('CMD ["x", \'y\']', 'CMD').command, { kind: 'shell', command: '["x", \'y\']' });
  assert.deepEqual(one('CMD ["unterminated', 'CMD').command, { kind: 'shell', command: '["unterminated' });
  assert.deepEqual(one('CMD [ "a" ] extra', 'CMD').command, { kind: 'shell', command: '[ "a" ] extra' });
  assert.deepEqual(one('ENTRYPOINT echo "$HOME" && x', 'ENTRYPOINT').command, { kind: 'shell', command: 'echo "$HOME" && x' });
  assert.deepEqual(one('ENTRYPOINT []', 'ENTRYPOINT').command, { kind: 'exec', args: [] });
  assert.deepEqual(one('ENTRYPOINT', 'ENTRYPOINT').command, { kind: 'exec', args: [] });
  assert.deepEqual(one('CMD []', 'CMD').command, { kind: 'exec', args: [] });
  assert.deepEqual(one('RUN ["a\\"b", "\\u00e9"]', 'RUN').command, { kind: 'exec', args: ['a"b', 'é'] });
  fails('FROM a\nCMD ["a", 1]\n', 'dockerfile parse error on line 2: when using JSON array syntax, arrays must be comprised of strings only');
  fails('FROM a\nCMD --foo x\n', 'dockerfile parse error on line 2: unknown flag: --foo');
});

test('RUN flags: --mount (repeatable), --network, --security, and bad values', () => {
  const run = one('RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --network=none --security=insecure make', 'RUN');
  assert.deepEqual(run.flags, [
    { name: 'mount', value: 'type=cache,target=/c' }, { name: 'mount', value: 'type=tmpfs,target=/t' },
    { name: 'network', value: 'none' }, { name: 'security', value: 'insecure' }]);
  assert.deepEqual(run.command, { kind: 'shell', command: 'make' });
  fails('FROM a\nRUN --network=bridge x\n', 'dockerfile parse error on line 2: invalid network mode "bridge"');
  fails('FROM a\nRUN --security=x y\n', 'dockerfile parse error on line 2: security "x" is not valid');
  fails('FROM a\nRUN --mount x\n', 'dockerfile parse error on line 2: missing a value on flag: --mount');
  fails('FROM a\nRUN --mnt=x y\n', 'dockerfile parse error on line 2: unknown flag: --mnt (did you mean mount?)');
  // A bare -- ends the flags; later --words are arguments.
  assert.deepEqual(one('RUN -- --network=bridge', 'RUN').command, { kind: 'shell', command: '--network=bridge' });
  assert.deepEqual(one('RUN --network=host -- ls', 'RUN').flags, [{ name: 'network', value: 'host' }]);
  // A single dash is an argument.
  assert.deepEqual(one('RUN -x', 'RUN').command, { kind: 'shell', command: '-x' });
});

test('flag values are unquoted and unescaped; bool flags', () => {
  const copy = one('COPY --chown="a b" --chmod=\'0755\' --link --from=st\\ age x y', 'COPY');
  assert.deepEqual(copy.flags, [
    { name: 'chown', value: 'a b' }, { name: 'chmod', value: '0755' }, { name: 'link', value: 'true' }, { name: 'from', value: 'st age' }]);
  assert.deepEqual(one('COPY --link=false a b', 'COPY').flags, [{ name: 'link', value: 'false' }]);
  assert.deepEqual(one('COPY --link=TRUE a b', 'COPY').flags, [{ name: 'link', value: 'true' }]);
  fails('FROM a\nCOPY --link= a b\n', 'dockerfile parse error on line 2: missing a value on flag: --link');
  fails('FROM a\nCOPY --link=yes a b\n', 'dockerfile parse error on line 2: expecting boolean value for flag --link, not: yes');
  fails('FROM a\nCOPY --checksum=x a b\n', 'dockerfile parse error on line 2: unknown flag: --checksum');
  const add = one('ADD --checksum=sha256:abc --keep-git-dir --chown=1:2 --chmod=644 http://x/y /z', 'ADD');
  assert.deepEqual(add.flags.map((f) => f.name), ['checksum', 'keep-git-dir', 'chown', 'chmod']);
  fails('FROM a\nADD --from=x a b\n', 'dockerfile parse error on line 2: unknown flag: --from');
});

test('COPY/ADD: word list, JSON form, errors', () => {
  const c = one('COPY a  b\t/dst/', 'COPY');
  assert.deepEqual([c.sources, c.dest, c.heredocs], [['a', 'b'], '/dst/', []]);
  const j = one('COPY ["a b", "/d st"]', 'COPY');
  assert.deepEqual([j.sources, j.dest], [['a b'], '/d st']);
  // Quotes are kept in the word form (expand() removes them).
  assert.deepEqual(one('ADD "a" /b', 'ADD').sources, ['"a"']);
  fails('FROM a\nCOPY a\n', 'dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
  fails('FROM a\nADD\n', 'dockerfile parse error on line 2: ADD requires at least two arguments, but only one was provided. Destination could not be determined');
  fails('FROM a\nCOPY ["a"]\n', 'dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
  fails('FROM a\nCOPY x <<EOF\nhi\nEOF\n', 'dockerfile parse error on line 2: COPY cannot accept a heredoc as a destination');
});

test('ENV: legacy single pair, multiple pairs, quoting kept raw, errors', () => {
  assert.deepEqual(one('ENV k v  w', 'ENV').pairs, [{ key: 'k', value: 'v  w' }]);
  assert.deepEqual(one('ENV k "v w"', 'ENV').pairs, [{ key: 'k', value: '"v w"' }]);
  assert.deepEqual(one('ENV a=1 b="x y" c=z\\ w d=\'q r\' e=', 'ENV').pairs, [
    { key: 'a', value: '1' }, { key: 'b', value: '"x y"' }, { key: 'c', value: 'z\\ w' }, { key: 'd', value: '\'q r\'' }, { key: 'e', value: '' }]);
  assert.deepEqual(one('ENV a="x \\"y\\" z"', 'ENV').pairs, [{ key: 'a', value: '"x \\"y\\" z"' }]);
  assert.deepEqual(one('ENV a=b=c', 'ENV').pairs, [{ key: 'a', value: 'b=c' }]);
  assert.deepEqual(one('ENV a=1 \\\n    b=2', 'ENV').pairs, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }]);
  fails('FROM a\nENV k\n', 'dockerfile parse error on line 2: ENV must have two arguments');
  fails('FROM a\nENV\n', 'dockerfile parse error on line 2: ENV requires at least one argument');
  fails('FROM a\nENV a=1 b\n', 'dockerfile parse error on line 2: Syntax error - can\'t find = in "b". Must be of the form: name=value');
  fails('FROM a\nENV =x\n', 'dockerfile parse error on line 2: ENV names can not be blank');
  fails('FROM a\nENV --x=1 a=b\n', 'dockerfile parse error on line 2: unknown flag: --x');
});

test('LABEL', () => {
  assert.deepEqual(one('LABEL "com.example.a"="x y" b=c', 'LABEL').pairs, [{ key: '"com.example.a"', value: '"x y"' }, { key: 'b', value: 'c' }]);
  assert.deepEqual(one('LABEL version 1.0 beta', 'LABEL').pairs, [{ key: 'version', value: '1.0 beta' }]);
  fails('FROM a\nLABEL x\n', 'dockerfile parse error on line 2: LABEL must have two arguments');
  fails('FROM a\nLABEL\n', 'dockerfile parse error on line 2: LABEL requires at least one argument');
});

test('ARG: several, with and without defaults, quotes kept', () => {
  assert.deepEqual(one('ARG a b=1 c="x y" d=', 'ARG').args, [
    { name: 'a' }, { name: 'b', defaultValue: '1' }, { name: 'c', defaultValue: '"x y"' }, { name: 'd', defaultValue: '' }]);
  fails('FROM a\nARG\n', 'dockerfile parse error on line 2: ARG requires at least one argument');
  fails('FROM a\nARG =1\n', 'dockerfile parse error on line 2: ARG names can not be blank');
  // Docker never parses ARG flags: accepted and ignored.
  assert.deepEqual(one('ARG --foo x', 'ARG').args, [{ name: 'x' }]);
});

test('EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, MAINTAINER, SHELL', () => {
  assert.deepEqual(one('EXPOSE 8080/tcp 80  53/udp', 'EXPOSE').ports, ['53/udp', '80', '8080/tcp']);
  fails('FROM a\nEXPOSE\n', 'dockerfile parse error on line 2: EXPOSE requires at least one argument');
  assert.deepEqual(one('VOLUME /a /b', 'VOLUME').paths, ['/a', '/b']);
  assert.deepEqual(one('VOLUME ["/a b", " /c "]', 'VOLUME').paths, ['/a b', '/c']);
  fails('FROM a\nVOLUME\n', 'dockerfile parse error on line 2: VOLUME requires at least one argument');
  fails('FROM a\nVOLUME [" "]\n', 'dockerfile parse error on line 2: VOLUME specified can not be an empty string');
  assert.equal(one('USER app:app', 'USER').user, 'app:app');
  assert.equal(one('USER a b', 'USER').user, 'a b');
  fails('FROM a\nUSER\n', 'dockerfile parse error on line 2: USER requires exactly one argument');
  assert.equal(one('WORKDIR /a b', 'WORKDIR').path, '/a b');
  fails('FROM a\nWORKDIR\n', 'dockerfile parse error on line 2: WORKDIR requires exactly one argument');
  assert.equal(one('STOPSIGNAL SIGTERM', 'STOPSIGNAL').signal, 'SIGTERM');
  fails('FROM a\nSTOPSIGNAL\n', 'dockerfile parse error on line 2: STOPSIGNAL requires exactly one argument');
  assert.equal(one('MAINTAINER Jane Doe <j@d>', 'MAINTAINER').name, 'Jane Doe <j@d>');
  fails('FROM a\nMAINTAINER\n', 'dockerfile parse error on line 2: MAINTAINER requires exactly one argument');
  assert.deepEqual(one('SHELL ["/bin/bash", "-c"]', 'SHELL').args, ['/bin/bash', '-c']);
  fails('FROM a\nSHELL /bin/bash -c\n', 'dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form');
  fails('FROM a\nSHELL []\n', 'dockerfile parse error on line 2: SHELL requires at least one argument');
  fails('FROM a\nSHELL\n', 'dockerfile parse error on line 2: SHELL requires at least one argument');
});

test('ONBUILD keeps the trigger as text and forbids ONBUILD, FROM, MAINTAINER', () => {
  assert.equal(one('ONBUILD RUN echo "a b"', 'ONBUILD').trigger, 'RUN echo "a b"');
  assert.equal(one('onbuild   copy --chown=1 . /app', 'ONBUILD').trigger, 'copy --chown=1 . /app');
  fails('FROM a\nONBUILD\n', 'dockerfile parse error on line 2: ONBUILD requires at least one argument');
  fails('FROM a\nONBUILD ONBUILD RUN x\n', 'dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  fails('FROM a\nONBUILD from b\n', 'dockerfile parse error on line 2: FROM isn\'t allowed as an ONBUILD trigger');
  fails('FROM a\nONBUILD MAINTAINER me\n', 'dockerfile parse error on line 2: MAINTAINER isn\'t allowed as an ONBUILD trigger');
  // The trigger's own line syntax is checked now (ENV needs a value).
  fails('FROM a\nONBUILD ENV x\n', 'dockerfile parse error on line 2: ENV must have two arguments');
  const h = one('ONBUILD RUN <<EOF\necho hi\nEOF\n', 'ONBUILD');
  assert.equal(h.trigger, 'RUN <<EOF\necho hi\nEOF');
  assert.deepEqual(h.loc, { line: 2, endLine: 4 });
});

test('HEALTHCHECK: NONE, CMD forms, options, errors', () => {
  const none = one('HEALTHCHECK NONE', 'HEALTHCHECK');
  assert.deepEqual([none.test, none.options], [{ kind: 'none' }, {}]);
  const h = one('HEALTHCHECK --interval=1m30s --timeout=3s --start-period=500ms --start-interval=1s --retries=3 CMD curl -f http://x/ || exit 1', 'HEALTHCHECK');
  assert.deepEqual(h.test, { kind: 'cmd', command: { kind: 'shell', command: 'curl -f http://x/ || exit 1' } });
  assert.deepEqual(h.options, { intervalNs: 90e9, timeoutNs: 3e9, startPeriodNs: 500e6, startIntervalNs: 1e9, retries: 3 });
  assert.deepEqual(one('healthcheck cmd ["a", "b"]', 'HEALTHCHECK').test, { kind: 'cmd', command: { kind: 'exec', args: ['a', 'b'] } });
  assert.deepEqual(one('HEALTHCHECK --interval=0s CMD x', 'HEALTHCHECK').options, {});
  const e = (line: string, msg: string) => fails(`FROM a\n${line}\n`, `dockerfile parse error on line 2: ${msg}`);
  e('HEALTHCHECK', 'HEALTHCHECK requires at least one argument');
  e('HEALTHCHECK NONE x', 'HEALTHCHECK NONE takes no arguments');
  e('HEALTHCHECK CMD', 'Missing command after HEALTHCHECK CMD');
  e('HEALTHCHECK CMD []', 'Missing command after HEALTHCHECK CMD');
  e('HEALTHCHECK RUN x', 'Unknown type "RUN" in HEALTHCHECK (try CMD)');
  e('HEALTHCHECK --interval=x CMD y', 'time: invalid duration "x"');
  e('HEALTHCHECK --timeout=5 CMD y', 'time: missing unit in duration "5"');
  e('HEALTHCHECK --timeout=5d CMD y', 'time: unknown unit "d" in duration "5d"');
  e('HEALTHCHECK --interval=10us CMD y', 'Interval "interval" cannot be less than 1ms');
  e('HEALTHCHECK --retries=x CMD y', 'strconv.ParseInt: parsing "x": invalid syntax');
  e('HEALTHCHECK --retries=-1 CMD y', '--retries cannot be negative (-1)');
  e('HEALTHCHECK --foo=1 CMD y', 'unknown flag: --foo');
});

test('Go durations', () => {
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('1.5h'), 5400e9);
  assert.equal(parseGoDuration('-2m'), -120e9);
  assert.equal(parseGoDuration('1h2m3s4ms5us6ns'), 3723004005006);
  assert.equal(parseGoDuration('.5s'), 500e6);
  assert.throws(() => parseGoDuration(''), /time: invalid duration ""/);
  assert.throws(() => parseGoDuration('.s'), /time: invalid duration/);
  assert.throws(() => parseGoDuration('s'), /time: invalid duration/);
});

test('heredocs: RUN script, several on one line, <<- chomp, quoted delimiter, body lines', () => {
  const run = one('RUN <<EOF\necho $HOME\n  indented\nEOF\n', 'RUN');
  assert.deepEqual(run.command, { kind: 'shell', command: '<<EOF' });
  assert.deepEqual(run.heredocs, [{ name: 'EOF', content: 'echo $HOME\n  indented\n', chomp: false, quoted: false }]);
  assert.deepEqual(run.loc, { line: 2, endLine: 5 });

  const two = one('RUN cat <<A >a && cat <<-"B" > b\nfirst\nA\n\tsecond\n\t\tthird\n\tB\n', 'RUN');
  assert.deepEqual(two.heredocs, [
    { name: 'A', content: 'first\n', chomp: false, quoted: false },
    { name: 'B', content: 'second\nthird\n', chomp: true, quoted: true }]);

  assert.deepEqual(one("RUN <<'E O'\nx\nE O\n", 'RUN').heredocs, [{ name: 'E O', content: 'x\n', chomp: false, quoted: true }]);
  assert.deepEqual(one('RUN <<EOF\nEOF\n', 'RUN').heredocs, [{ name: 'EOF', content: '', chomp: false, quoted: false }]);
  // Not a heredoc: quoted, or part of a word, or JSON form.
  assert.deepEqual(one('RUN echo "<<EOF"', 'RUN').heredocs, []);
  assert.deepEqual(one('RUN echo a<<EOF', 'RUN').heredocs, []);
  assert.deepEqual(one('RUN ["sh", "-c", "cat <<EOF"]', 'RUN').heredocs, []);
  // Heredoc bodies are not comments, continuations or instructions.
  const r = one('RUN <<EOF\n# not a comment \\\nFROM x\nEOF\n', 'RUN');
  assert.equal(r.heredocs[0]!.content, '# not a comment \\\nFROM x\n');
  // A continuation line can carry the heredoc opener.
  const c = one('RUN --network=none \\\n  <<EOF\nhi\nEOF\n', 'RUN');
  assert.deepEqual([c.heredocs[0]!.content, c.loc], ['hi\n', { line: 2, endLine: 5 }]);
  // After the heredoc, instructions go on.
  const list = body('RUN <<EOF\nx\nEOF\nRUN y\n');
  assert.deepEqual(list.map((i) => i.loc.line), [2, 5]);
  fails('FROM a\nRUN <<EOF\nx\n', 'dockerfile parse error on line 2: unterminated heredoc');
  fails('FROM a\nRUN <<EOF\nx\nEOF \n', 'dockerfile parse error on line 2: unterminated heredoc');
});

test('heredocs in COPY and ADD: sources by name', () => {
  const c = one('COPY --chmod=755 <<run.sh <<-"cfg" /app/\n#!/bin/sh\necho $X\nrun.sh\n\tk=v\n\tcfg\n', 'COPY');
  assert.deepEqual(c.sources, ['run.sh', 'cfg']);
  assert.equal(c.dest, '/app/');
  assert.deepEqual(c.heredocs, [
    { name: 'run.sh', content: '#!/bin/sh\necho $X\n', chomp: false, quoted: false },
    { name: 'cfg', content: 'k=v\n', chomp: true, quoted: true }]);
  const a = one('ADD <<EOF real.txt /d\nhello\nEOF\n', 'ADD');
  assert.deepEqual(a.sources, ['EOF', 'real.txt']);
});

test('parseHeredocWord', () => {
  assert.deepEqual(parseHeredocWord('<<EOF'), { name: 'EOF', chomp: false, quoted: false });
  assert.deepEqual(parseHeredocWord('<<-EOF'), { name: 'EOF', chomp: true, quoted: false });
  assert.deepEqual(parseHeredocWord('2<<"EOF"'), { name: 'EOF', chomp: false, quoted: true });
  assert.deepEqual(parseHeredocWord("<<'EOF'"), { name: 'EOF', chomp: false, quoted: true });
  assert.deepEqual(parseHeredocWord('<<E"O"F'), { name: 'EOF', chomp: false, quoted: true });
  assert.deepEqual(parseHeredocWord('<<E\\OF'), { name: 'EOF', chomp: false, quoted: false });
  assert.equal(parseHeredocWord('<<'), undefined);
  assert.equal(parseHeredocWord('<<<EOF'), undefined);
  assert.equal(parseHeredocWord('x<<EOF'), undefined);
  assert.equal(parseHeredocWord('EOF'), undefined);
});

test('original keeps the instruction as written with continuations joined', () => {
  const [env] = body('ENV  a=1 \\\n  b=2\n');
  assert.equal(env!.original, 'ENV  a=1   b=2');
  assert.deepEqual(env!.loc, { line: 2, endLine: 3 });
});

test('parseInstructions: ONBUILD triggers and --change lines need no FROM', () => {
  const list = parseInstructions('CMD ["a"]\nENV x=1\nRUN <<EOF\nhi\nEOF');
  assert.deepEqual(list.map((i) => i.kind), ['CMD', 'ENV', 'RUN']);
  assert.deepEqual(parseInstructions('COPY C:\\a /b', '`').map((i) => i.kind === 'COPY' && i.sources), [['C:\\a']]);
  assert.throws(() => parseInstructions('EXPOSE'), /dockerfile parse error on line 1: EXPOSE requires at least one argument/);
});

test('heredoc delimiters: blanks after <<, quotes anywhere, escapes, odd names', () => {
  const names = (line: string, bodies: string) => one(`${line}\n${bodies}`, 'RUN').heredocs.map((h) => [h.name, h.quoted, h.chomp]);
  assert.deepEqual(names('RUN <<  EOF', 'EOF'), [['EOF', false, false]]);
  assert.deepEqual(names('RUN <<  EOF  > foo', 'EOF'), [['EOF', false, false]]);
  // Docker's lexer keeps blanks only right after `<<`: `<<- EOF` splits into two words, no heredoc.
  assert.deepEqual(one('RUN <<- EOF', 'RUN').heredocs, []);
  assert.deepEqual(names('RUN << -EOF', '-EOF'), [['-EOF', false, false]]);
  assert.deepEqual(names("RUN <<eo'f'", 'eof'), [['eof', true, false]]);
  assert.deepEqual(names("RUN <<eo\\'f", "eo'f"), [["eo'f", false, false]]);
  assert.deepEqual(names("RUN <<'e'o\\'f", "eo'f"), [["eo'f", true, false]]);
  assert.deepEqual(names("RUN <<'one two'", 'one two'), [['one two', true, false]]);
  assert.deepEqual(names('RUN <<$EOF', '$EOF'), [['$EOF', false, false]]);
  assert.deepEqual(names('RUN 3<<EOF', 'EOF'), [['EOF', false, false]]);
  // Not heredocs: an unterminated quote on the line, a delimiter of two words, <<< .
  assert.deepEqual(one("RUN echo 'x <<EOF", 'RUN').heredocs, []);
  assert.deepEqual(one('RUN cat <<<EOF', 'RUN').heredocs, []);
  assert.deepEqual(one('USER <<INVALID', 'USER').user, '<<INVALID');
  assert.equal(parseHeredocWord("<<'EOF"), undefined);
  assert.equal(parseHeredocWord('<<EOF"'), undefined);
  assert.equal(parseHeredocWord('<<EOF sh'), undefined);
  assert.equal(parseHeredocWord('<<-'), undefined);
  assert.deepEqual(parseHeredocWord('<< EOF'), { name: 'EOF', chomp: false, quoted: false });
});

test('COPY heredoc bodies may name each other', () => {
  const c = one('COPY <<X <<Y /dest\nY\nX\nX\nY\n', 'COPY');
  assert.deepEqual(c.heredocs.map((h) => [h.name, h.content]), [['X', 'Y\n'], ['Y', 'X\n']]);
});
