import { posix } from 'node:path';
import { EngineError } from './errors.ts';

/**
 * .dockerignore reading and matching with Docker's rules (moby/patternmatcher and its ignorefile
 * reader, as the docker CLI and BuildKit use them):
 *
 * - one pattern a line; a line starting with `#` (in column 1) is a comment; blanks around a
 *   pattern are trimmed; each pattern is cleaned like Go's filepath.Clean and a leading `/` dropped,
 *   so `/a/./b/` means `a/b`;
 * - `*` and `?` match within one path element, `[…]` is a character class, `\` escapes, and `**`
 *   matches any number of directories (`**\/*.go`, `a/**`, `a/**\/b`);
 * - a pattern that matches a directory excludes everything below it;
 * - `!pattern` re-includes what earlier patterns excluded; the last pattern that matches wins;
 * - an excluded directory is still walked when an exception pattern starts with its path
 *   (`!a/keep` under an excluded `a`), so the exception can bring files back. Like Docker, this is a
 *   plain prefix test on the exception's text: a wildcard before the directory name (`!*\/keep`)
 *   does not open an excluded directory.
 *
 * Paths given to the matcher are relative to the context root, with `/` separators.
 */

/**
 * Parse a .dockerignore file into patterns (Docker's ignorefile.ReadAll): comments and blank lines
 * dropped, patterns cleaned, `!` kept in front of exceptions. The result feeds DockerignoreMatcher.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.split('\n');
  if (lines[0]?.startsWith('\uFEFF')) lines[0] = lines[0].slice(1);
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

/** Go's path.Clean: collapse `//`, drop `.`, resolve `..` lexically; "" becomes ".". */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

interface Pattern {
  /** The cleaned pattern without its `!`. */
  text: string;
  exception: boolean;
  type: MatchType;
  regexp?: RegExp;
}

/** Characters Docker escapes when turning a pattern into a regular expression. */
const ESCAPED = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

function compile(text: string): Pick<Pattern, 'type' | 'regexp'> {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = [...text];
  for (let i = 0, token = 0; i < chars.length; i++, token++) {
    const ch = chars[i]!;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else { re += '.*'; type = 'regexp'; }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (token === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ESCAPED.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next === undefined) {
        throw new Error('trailing escape'); // Go's filepath.Match rejects it: ErrBadPattern
      } else {
        // An escaped letter or digit is that character (Go would read `\d` as a class; berth does not).
        re += /[A-Za-z0-9]/.test(next) ? next : `\\${next}`;
        i++;
        type = 'regexp';
      }
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  if (type !== 'regexp') return { type };
  return { type, regexp: new RegExp(`${re}$`) };
}

function matchOne(p: Pattern, path: string): boolean {
  switch (p.type) {
    case 'exact': return path === p.text;
    case 'prefix': return path.startsWith(p.text.slice(0, -2));
    case 'suffix': {
      const suffix = p.text.slice(2);
      return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
    }
    case 'regexp': return p.regexp!.test(path);
  }
}

/**
 * Matches context paths against .dockerignore patterns. Construct it with the patterns of
 * parseDockerignore (or the list the API's `dockerignore`-style options carry). Throws EngineError
 * InvalidParameter for a bad pattern: `illegal exclusion pattern: "!"` or `syntax error in pattern`.
 * Immutable; safe to share.
 */
export class DockerignoreMatcher {
  readonly #patterns: Pattern[];
  readonly hasExceptions: boolean;

  constructor(patterns: readonly string[]) {
    this.#patterns = [];
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      p = cleanPath(p);
      let exception = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new EngineError('InvalidParameter', 'illegal exclusion pattern: "!"');
        exception = true;
        p = p.slice(1);
      }
      let compiled: Pick<Pattern, 'type' | 'regexp'>;
      try {
        compiled = compile(p);
      } catch (err) {
        throw new EngineError('InvalidParameter', 'syntax error in pattern', { cause: err });
      }
      this.#patterns.push({ text: p, exception, ...compiled });
    }
    this.hasExceptions = this.#patterns.some((p) => p.exception);
  }

  /** The cleaned patterns, exceptions with their `!`. */
  get patterns(): string[] {
    return this.#patterns.map((p) => (p.exception ? `!${p.text}` : p.text));
  }

  /**
   * True when the path (relative to the context root, `/`-separated, file or directory) is
   * excluded: the last pattern that matches it or one of its parent directories is not an
   * exception. The context root itself (`.` or "") is never excluded.
   */
  isExcluded(relPath: string): boolean {
    const path = stripSlash(cleanPath(relPath));
    if (path === '.' || path === '') return false;
    const parents = ancestors(path);
    let excluded = false;
    for (const p of this.#patterns) {
      // A pattern can only change the answer the other way.
      if (p.exception !== excluded) continue;
      if (matchOne(p, path) || parents.some((dir) => matchOne(p, dir))) excluded = !p.exception;
    }
    return excluded;
  }

  /**
   * Whether a walker must descend into this directory: true unless it is excluded and no exception
   * pattern starts with its path (Docker's rule, see the module comment). A directory that is
   * excluded but walked is itself not sent; files under it are, when isExcluded says so.
   */
  shouldWalkInto(relDir: string): boolean {
    const dir = stripSlash(cleanPath(relDir));
    if (!this.isExcluded(dir)) return true;
    if (!this.hasExceptions) return false;
    const dirSlash = `${dir}/`;
    return this.#patterns.some((p) => p.exception && `${p.text}/`.startsWith(dirSlash));
  }
}

const stripSlash = (p: string) => (p.startsWith('/') && p.length > 1 ? p.slice(1) : p);

/** `a/b/c` → [`a`, `a/b`]. */
function ancestors(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/**
 * The patterns a client sends the context with (docker CLI's TrimBuildFilesFromExcludes): the
 * .dockerignore file and the Dockerfile (path relative to the context root) are always sent, even
 * when a pattern excludes them, because the builder needs them; exceptions are appended for them.
 * A Dockerfile read from stdin (`-f -`) is not in the context, so no exception is added for it.
 */
export function keepBuildFiles(patterns: readonly string[], dockerfileRelPath: string, dockerfileFromStdin = false): string[] {
  const out = [...patterns];
  if (new DockerignoreMatcher(out).isExcluded('.dockerignore')) out.push('!.dockerignore');
  const dockerfile = dockerfileRelPath.replace(/\\/g, '/');
  if (!dockerfileFromStdin && new DockerignoreMatcher(out).isExcluded(dockerfile)) out.push(`!${dockerfile}`);
  return out;
}

/**
 * What the daemon deletes from a received context before building (moby's removeDockerfile): the
 * .dockerignore file and the Dockerfile, each only if the patterns exclude it. The client sent them
 * anyway (keepBuildFiles), but `COPY . /` must not copy them.
 */
export function buildFilesToRemove(patterns: readonly string[], dockerfileRelPath: string): string[] {
  const m = new DockerignoreMatcher(patterns);
  return ['.dockerignore', dockerfileRelPath].filter((f) => m.isExcluded(f));
}

/**
 * Which ignore file applies to a build, as BuildKit decides: `<Dockerfile>.dockerignore` next to
 * the Dockerfile (`app.Dockerfile` → `app.Dockerfile.dockerignore`) when it exists, else
 * `.dockerignore` at the context root, else none (undefined). `exists` is the caller's file test,
 * so this stays pure; paths are joined with `/`.
 */
export function ignoreFileFor(dockerfilePath: string, contextDir: string, exists: (path: string) => boolean): string | undefined {
  const candidates = [`${dockerfilePath}.dockerignore`, posix.join(contextDir, '.dockerignore')];
  return candidates.find((c) => exists(c));
}
