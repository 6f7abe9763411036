import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { envFromList, expand, expandHeredoc, expandWithMatches, expandWords, type EnvLookup } from './substitute.ts';

const env: EnvLookup = envFromList(['HOME=/root', 'EMPTY=', 'TWO=a b', 'PADDED=  x  y ', 'PATHV=/usr/local/lib/libfoo.so.1', 'Q="q"', 'ÄRG=umlaut', 'N1=one']);
const x = (word: string, opts = {}) => expand(word, env, opts);
const w = (word: string, opts = {}) => expandWords(word, env, opts);
function fails(word: string, message: string): void {
  assert.throws(() => x(word), (err: unknown) => {
    assert.ok(err instanceof EngineError);
    assert.equal(err.kind, 'InvalidParameter');
    assert.equal(err.message, message);
    return true;
  });
}

test('plain variables', () => {
  assert.equal(x('$HOME/bin'), '/root/bin');
  assert.equal(x('${HOME}bin'), '/rootbin');
  assert.equal(x('$HOMEbin'), '');
  assert.equal(x('a$NOPE-b'), 'a-b');
  assert.equal(x('$'), '$');
  assert.equal(x('a$ b'), 'a$ b');
  assert.equal(x('$-x'), 'x', 'special parameter $- (unset)');
  assert.equal(x('$1x'), 'x', 'positional parameters are unset');
  assert.equal(x('$12'), '');
  assert.equal(x('$ÄRG'), 'umlaut', 'names may hold any letter');
  assert.equal(x('$N1'), 'one');
  assert.equal(x('${N1}1'), 'one1');
  assert.equal(x('$HOME$HOME'), '/root/root');
});

test('${VAR-x} and ${VAR:-x}: unset versus empty', () => {
  assert.equal(x('${NOPE-def}'), 'def');
  assert.equal(x('${EMPTY-def}'), '');
  assert.equal(x('${EMPTY:-def}'), 'def');
  assert.equal(x('${HOME:-def}'), '/root');
  assert.equal(x('${NOPE:-$HOME/x}'), '/root/x', 'the default is expanded');
  assert.equal(x('${NOPE:-${ALSO:-deep}}'), 'deep');
  assert.equal(x('${NOPE:-a b}'), 'a b');
  assert.equal(x('${NOPE:-"a}b"}'), 'a}b', 'quotes inside the default protect the brace');
  assert.equal(x('${NOPE:-a\\}b}'), 'a}b');
  assert.equal(x('${NOPE:-}'), '');
});

test('${VAR+x} and ${VAR:+x}', () => {
  assert.equal(x('${HOME+set}'), 'set');
  assert.equal(x('${EMPTY+set}'), 'set');
  assert.equal(x('${EMPTY:+set}'), '');
  assert.equal(x('${NOPE+set}'), '');
  assert.equal(x('${HOME:+[$HOME]}'), '[/root]');
});

test('${VAR?msg} and ${VAR:?msg} fail with Docker\'s words', () => {
  assert.equal(x('${HOME:?}'), '/root');
  assert.equal(x('${EMPTY?}'), '');
  fails('${NOPE?}', 'failed to process "${NOPE?}": NOPE: is not allowed to be unset');
  fails('${NOPE:?}', 'failed to process "${NOPE:?}": NOPE: is not allowed to be unset');
  fails('${EMPTY:?}', 'failed to process "${EMPTY:?}": EMPTY: is not allowed to be empty');
  fails('a ${NOPE:?set it please}', 'failed to process "a ${NOPE:?set it please}": NOPE: set it please');
});

test('pattern removal and replacement', () => {
  assert.equal(x('${PATHV#*/}'), 'usr/local/lib/libfoo.so.1');
  assert.equal(x('${PATHV##*/}'), 'libfoo.so.1');
  assert.equal(x('${PATHV%.*}'), '/usr/local/lib/libfoo.so');
  assert.equal(x('${PATHV%%.*}'), '/usr/local/lib/libfoo');
  assert.equal(x('${PATHV#nomatch}'), '/usr/local/lib/libfoo.so.1');
  assert.equal(x('${PATHV%?}'), '/usr/local/lib/libfoo.so.');
  assert.equal(x('${PATHV/lib/LIB}'), '/usr/local/LIB/libfoo.so.1');
  assert.equal(x('${PATHV//lib/LIB}'), '/usr/local/LIB/LIBfoo.so.1');
  assert.equal(x('${PATHV//\\//_}'), '_usr_local_lib_libfoo.so.1', 'escaped slash in the pattern');
  assert.equal(x('${PATHV/l*b/X}'), '/usr/Xfoo.so.1', 'greedy star');
  assert.equal(x('${HOME/o/$$&}'), '/r&ot', 'the replacement is expanded ($$ is unset) and & is literal');
  assert.equal(x('${NOPE//a/b}'), '');
  fails('${PATHV:#x}', 'failed to process "${PATHV:#x}": unsupported modifier (:#) in substitution');
  fails('${PATHV#\\x}', 'failed to process "${PATHV#\\\\x}": invalid pattern (\\x) in substitution: invalid escape \'\\x\'');
  fails('${PATHV/a}', 'failed to process "${PATHV/a}": syntax error: missing \'/\' in ${}');
});

test('syntax errors', () => {
  fails('${', 'failed to process "${": syntax error: missing \'}\'');
  fails('${HOME', 'failed to process "${HOME": syntax error: missing \'}\'');
  fails('${HOME:-x', 'failed to process "${HOME:-x": syntax error: missing \'}\'');
  fails('${}', 'failed to process "${}": syntax error: bad substitution');
  fails('${:-x}', 'failed to process "${:-x}": syntax error: bad substitution');
  fails('${{x}}', 'failed to process "${{x}}": syntax error: bad substitution');
  fails('${a b}', 'failed to process "${a b}": unsupported modifier ( ) in substitution');
  fails('${a:x}', 'failed to process "${a:x}": unsupported modifier (:x) in substitution');
  fails('"abc', 'failed to process "\\"abc": unexpected end of statement while looking for matching double-quote');
  fails("'abc", 'failed to process "\'abc": unexpected end of statement while looking for matching single-quote');
});

test('single quotes are literal; double quotes expand; quotes are removed', () => {
  assert.equal(x("'$HOME'"), '$HOME');
  assert.equal(x('"$HOME"'), '/root');
  assert.equal(x('a"b c"d'), 'ab cd');
  assert.equal(x("'a\\b'"), 'a\\b', 'no escapes inside single quotes');
  assert.equal(x('"it\'s"'), "it's");
  assert.equal(x("'say \"hi\"'"), 'say "hi"');
  assert.equal(x('""'), '');
  assert.equal(x('$Q'), '"q"', 'quotes from a value are data');
  assert.equal(x('"${NOPE:-a "b" c}"'), 'a b c');
});

test('escapes: outside quotes anything; inside double quotes only " $ and the escape', () => {
  assert.equal(x('\\$HOME'), '$HOME');
  assert.equal(x('a\\ b'), 'a b');
  assert.equal(x('\\"x\\"'), '"x"');
  assert.equal(x('\\\\'), '\\');
  assert.equal(x('abc\\'), 'abc', 'a trailing escape is dropped');
  assert.equal(x('"\\$HOME"'), '$HOME');
  assert.equal(x('"a\\"b"'), 'a"b');
  assert.equal(x('"a\\\\b"'), 'a\\b');
  assert.equal(x('"a\\nb"'), 'a\\nb', 'other escapes stay literal in double quotes');
  assert.equal(x("\\'x"), "'x");
});

test('backtick as the escape character', () => {
  const o = { escape: '`' } as const;
  assert.equal(x('C:\\path\\$HOME', o), 'C:\\path\\/root');
  assert.equal(x('`$HOME', o), '$HOME');
  assert.equal(x('"a`"b"', o), 'a"b');
  assert.equal(x('a` b', o), 'a b');
});

test('words: blanks split outside quotes, also blanks from values', () => {
  assert.deepEqual(w('80 443/tcp'), ['80', '443/tcp']);
  assert.deepEqual(w('$TWO'), ['a', 'b']);
  assert.deepEqual(w('"$TWO"'), ['a b']);
  assert.deepEqual(w('x$PADDED'), ['x', 'x', 'y']);
  assert.deepEqual(w('x"$PADDED"z'), ['x  x  y z']);
  assert.deepEqual(w('a\\ b c'), ['a b', 'c']);
  assert.deepEqual(w('  lead  trail  '), ['lead', 'trail']);
  assert.deepEqual(w('""'), []);
  assert.deepEqual(w("'' x"), ['x']);
  assert.deepEqual(w('pre${NOPE:-mid}post'), ['premidpost']);
  assert.deepEqual(w('cat << EOF'), ['cat', '<< EOF'], 'heredoc openers keep their blank');
  assert.deepEqual(w('a<b'), ['a<b']);
});

test('options: skipUnset, rawQuotes, rawEscapes, skipQuotes', () => {
  assert.equal(x('$NOPE ${NOPE} ${NOPE:-d} $HOME', { skipUnset: true }), '$NOPE ${NOPE} ${NOPE:-d} /root');
  assert.equal(x('"a" \'$HOME\'', { rawQuotes: true }), '"a" \'$HOME\'');
  assert.equal(x('a\\ b', { rawEscapes: true }), 'a\\ b');
  assert.equal(x('"$HOME" \'x\'', { skipQuotes: true }), '"/root" \'x\'');
});

test('matched and unmatched variables', () => {
  const r = expandWithMatches('$HOME ${NOPE:-x} ${EMPTY}', env);
  assert.deepEqual([...r.matched].sort(), ['EMPTY', 'HOME']);
  assert.deepEqual([...r.unmatched], ['NOPE']);
  assert.equal(r.value, '/root x ');
});

test('envFromList: later entries win, bare names are empty', () => {
  const e = envFromList(['A=1', 'B', 'A=2', 'C=x=y']);
  assert.equal(e('A'), '2');
  assert.equal(e('B'), '');
  assert.equal(e('C'), 'x=y');
  assert.equal(e('D'), undefined);
});

test('heredoc bodies: expanded unless the delimiter was quoted; quotes are data', () => {
  const content = 'home=$HOME\nsay "$TWO" \'$TWO\'\nkeep \\$HOME\n';
  assert.equal(expandHeredoc({ name: 'EOF', content, chomp: false, quoted: false }, env),
    'home=/root\nsay "a b" \'a b\'\nkeep $HOME\n');
  assert.equal(expandHeredoc({ name: 'EOF', content, chomp: false, quoted: true }, env), content);
});
