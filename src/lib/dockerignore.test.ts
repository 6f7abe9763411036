import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from './errors.ts';
import {
  buildFilesToRemove, cleanPath, DockerignoreMatcher, ignoreFileFor, keepBuildFiles, parseDockerignore,
} from './dockerignore.ts';

/** Which of `paths` the patterns exclude. */
function excluded(patterns: string[], paths: string[]): string[] {
  const m = new DockerignoreMatcher(patterns);
  return paths.filter((p) => m.isExcluded(p));
}

test('cleanPath behaves like Go path.Clean', () => {
  const cases: Array<[string, string]> = [
    ['', '.'], ['.', '.'], ['a/', 'a'], ['a//b', 'a/b'], ['./a/./b/', 'a/b'], ['a/../b', 'b'], ['../a', '../a'],
    ['a/../..', '..'], ['/../a', '/a'], ['/', '/'], ['//a', '/a'], ['a/b/../../..', '..'],
  ];
  for (const [input, want] of cases) assert.equal(cleanPath(input), want, input);
});

test('parseDockerignore: comments, blanks, cleaning, leading slash, exceptions, BOM, CRLF', () => {
  const text = '\uFEFF# comment\n\n  node_modules  \n/build/\n!  /build/keep.txt\n ./a/../b\r\n # not a comment\n!\n*.log\n/\n';
  assert.deepEqual(parseDockerignore(text), ['node_modules', 'build', '!build/keep.txt', 'b', '# not a comment', '!', '*.log', '/']);
});

test('exact names and directories exclude everything below them', () => {
  assert.deepEqual(excluded(['node_modules', 'a/b'], ['node_modules', 'node_modules/x/y.js', 'src/node_modules', 'a', 'a/b', 'a/b/c', 'a/bc']),
    ['node_modules', 'node_modules/x/y.js', 'a/b', 'a/b/c']);
});

test('* and ? stay within one path element', () => {
  assert.deepEqual(excluded(['*.log'], ['a.log', 'dir/a.log', 'a.log/x']), ['a.log', 'a.log/x']);
  assert.deepEqual(excluded(['*/*.tmp'], ['x.tmp', 'd/x.tmp', 'd/e/x.tmp']), ['d/x.tmp']);
  assert.deepEqual(excluded(['file?.txt'], ['file1.txt', 'file12.txt', 'file/.txt']), ['file1.txt']);
  assert.deepEqual(excluded(['*'], ['a', 'a/b', '.hidden']), ['a', 'a/b', '.hidden']);
});

test('** matches any number of directories', () => {
  assert.deepEqual(excluded(['**/*.go'], ['a.go', 'x/a.go', 'x/y/a.go', 'a.go.txt']), ['a.go', 'x/a.go', 'x/y/a.go']);
  assert.deepEqual(excluded(['**/secret'], ['secret', 'a/secret', 'a/b/secret', 'a/secret/x', 'notsecret']), ['secret', 'a/secret', 'a/b/secret', 'a/secret/x']);
  assert.deepEqual(excluded(['a/**/b'], ['a/b', 'a/x/b', 'a/x/y/b', 'ab', 'a/b2']), ['a/b', 'a/x/b', 'a/x/y/b']);
  assert.deepEqual(excluded(['a/**'], ['a', 'a/x', 'a/x/y', 'ab']), ['a/x', 'a/x/y']);
  assert.deepEqual(excluded(['**'], ['a', 'a/b']), ['a', 'a/b']);
  assert.deepEqual(excluded(['a**'], ['a', 'abc', 'a/b', 'b']), ['a', 'abc', 'a/b']);
  assert.deepEqual(excluded(['a/**/*.js'], ['a/x.js', 'a/b/x.js', 'b/x.js']), ['a/x.js', 'a/b/x.js']);
});

test('character classes and escapes', () => {
  assert.deepEqual(excluded(['[ab].txt'], ['a.txt', 'b.txt', 'c.txt']), ['a.txt', 'b.txt']);
  assert.deepEqual(excluded(['[^a].txt'], ['a.txt', 'b.txt']), ['b.txt']);
  assert.deepEqual(excluded(['x[0-9]'], ['x1', 'xa']), ['x1']);
  assert.deepEqual(excluded(['\\*'], ['*', 'a']), ['*']);
  assert.deepEqual(excluded(['a\\?b'], ['a?b', 'axb']), ['a?b']);
  assert.deepEqual(excluded(['a+(b).{c}|$'], ['a+(b).{c}|$', 'aab']), ['a+(b).{c}|$']);
});

test('exceptions re-include and the last matching pattern wins', () => {
  assert.deepEqual(excluded(['*.md', '!README.md'], ['a.md', 'README.md']), ['a.md']);
  assert.deepEqual(excluded(['*.md', '!README.md', 'README*'], ['README.md']), ['README.md']);
  assert.deepEqual(excluded(['!a', 'a'], ['a']), ['a']);
  assert.deepEqual(excluded(['docs', '!docs/keep'], ['docs', 'docs/x', 'docs/keep', 'docs/keep/deep']), ['docs', 'docs/x']);
  assert.deepEqual(excluded(['**', '!src/**', 'src/**/*.test.ts'], ['x', 'src/a.ts', 'src/b/c.test.ts', 'src/b/c.ts']), ['x', 'src/b/c.test.ts']);
  assert.deepEqual(excluded(['*', '!*.go', '!go.mod'], ['main.go', 'go.mod', 'go.sum', 'vendor']), ['go.sum', 'vendor']);
});

test('paths are cleaned; the root is never excluded', () => {
  const m = new DockerignoreMatcher(['a/b', '*']);
  assert.equal(m.isExcluded('./a//b/'), true);
  assert.equal(m.isExcluded('/a/b'), true);
  assert.equal(m.isExcluded('.'), false);
  assert.equal(m.isExcluded(''), false);
});

test('shouldWalkInto: excluded directories are skipped unless an exception starts inside them', () => {
  const m = new DockerignoreMatcher(['build', 'logs', '!build/keep/**', 'cache/**', '!*/wanted']);
  assert.equal(m.shouldWalkInto('src'), true);
  assert.equal(m.shouldWalkInto('build'), true, '!build/keep/** starts with build/');
  assert.equal(m.isExcluded('build'), true, 'the directory entry itself is still excluded');
  assert.equal(m.shouldWalkInto('build/other'), false);
  assert.equal(m.shouldWalkInto('build/keep'), true);
  assert.equal(m.isExcluded('build/keep/a.txt'), false);
  assert.equal(m.isExcluded('build/other.txt'), true);
  assert.equal(m.shouldWalkInto('logs'), false, 'a wildcard exception (!*/wanted) does not open it, as in Docker');
  assert.equal(m.shouldWalkInto('cache'), true, 'cache/** does not match cache itself');
  assert.equal(m.shouldWalkInto('cache/x'), false);
  assert.equal(new DockerignoreMatcher(['a']).shouldWalkInto('a'), false);
  assert.equal(new DockerignoreMatcher(['a', '!ab']).shouldWalkInto('a'), false, 'ab/ does not start with a/');
});

test('bad patterns are refused with Docker\'s words', () => {
  for (const [patterns, message] of [[['!'], 'illegal exclusion pattern: "!"'], [['a['], 'syntax error in pattern'], [['a\\'], 'syntax error in pattern']] as const) {
    assert.throws(() => new DockerignoreMatcher(patterns), (err: unknown) =>
      err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === message);
  }
  assert.deepEqual(new DockerignoreMatcher(['', '  ', 'a']).patterns, ['a']);
});

test('keepBuildFiles: the Dockerfile and .dockerignore are always sent', () => {
  assert.deepEqual(keepBuildFiles(['*'], 'Dockerfile'), ['*', '!.dockerignore', '!Dockerfile']);
  assert.deepEqual(keepBuildFiles(['build'], 'build/app.Dockerfile'), ['build', '!build/app.Dockerfile']);
  assert.deepEqual(keepBuildFiles(['node_modules'], 'Dockerfile'), ['node_modules']);
  assert.deepEqual(keepBuildFiles(['*'], 'Dockerfile', true), ['*', '!.dockerignore']);
  const m = new DockerignoreMatcher(keepBuildFiles(['build'], 'build/app.Dockerfile'));
  assert.equal(m.shouldWalkInto('build'), true);
  assert.equal(m.isExcluded('build/app.Dockerfile'), false);
  assert.equal(m.isExcluded('build/other'), true);
});

test('buildFilesToRemove: what the daemon drops from the context before COPY', () => {
  assert.deepEqual(buildFilesToRemove(['*'], 'Dockerfile'), ['.dockerignore', 'Dockerfile']);
  assert.deepEqual(buildFilesToRemove(['.dockerignore'], 'Dockerfile'), ['.dockerignore']);
  assert.deepEqual(buildFilesToRemove(['docker'], 'docker/Dockerfile'), ['docker/Dockerfile']);
  assert.deepEqual(buildFilesToRemove([], 'Dockerfile'), []);
});

test('ignoreFileFor: <Dockerfile>.dockerignore wins over the context root\'s .dockerignore', () => {
  const files = new Set(['ctx/.dockerignore', 'ctx/build/app.Dockerfile.dockerignore']);
  const exists = (p: string) => files.has(p);
  assert.equal(ignoreFileFor('ctx/build/app.Dockerfile', 'ctx', exists), 'ctx/build/app.Dockerfile.dockerignore');
  assert.equal(ignoreFileFor('ctx/Dockerfile', 'ctx', exists), 'ctx/.dockerignore');
  assert.equal(ignoreFileFor('other/Dockerfile', 'other', exists), undefined);
});
