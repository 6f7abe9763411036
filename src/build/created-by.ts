/**
 * History `created_by` strings as dockerd's legacy builder records them, so `history` reads the
 * same: metadata steps are `<shell> #(nop)  <INSTR …>` (two spaces: dockerd joins
 * [...shell, "#(nop) ", comment] with spaces), COPY/ADD/WORKDIR `<shell> #(nop) <comment>` (one
 * space: a single "#(nop) …" argument), RUN its command with `|N K=V …` in front when build args
 * are in scope.
 */

/** Go's %q of one string: a double-quoted string with Go escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's %q of a []string: `["nginx" "-g" "daemon off;"]` (what CMD/ENTRYPOINT history shows). */
export const goQuoteList = (args: readonly string[]): string => `[${args.map(goQuote).join(' ')}]`;

/** Go's %v of a []string: `[/bin/sh -c]` (SHELL, VOLUME). */
export const goList = (args: readonly string[]): string => `[${args.join(' ')}]`;

/** created_by of a metadata-only step: `/bin/sh -c #(nop)  CMD ["sh"]`. */
export function nopCreatedBy(shell: readonly string[], comment: string): string {
  return [...shell, '#(nop) ', comment].join(' ');
}

/** created_by of COPY/ADD: `/bin/sh -c #(nop) COPY file:<hex> in /dst ` (trailing space kept). */
export function copyCreatedBy(shell: readonly string[], o: { kind: 'COPY' | 'ADD'; chown?: string; srcHash: string; dest: string }): string {
  const chown = o.chown ? `--chown=${o.chown} ` : '';
  return [...shell, `#(nop) ${o.kind} ${chown}${o.srcHash} in ${o.dest} `].join(' ');
}

/** created_by of WORKDIR: `/bin/sh -c #(nop) WORKDIR /app`. */
export function workdirCreatedBy(shell: readonly string[], dir: string): string {
  return [...shell, `#(nop) WORKDIR ${dir}`].join(' ');
}

/**
 * The command RUN records (and the cache compares): `|2 A=1 B=2 /bin/sh -c make` when build args
 * are in scope (sorted, as dockerd's prependEnvOnCmd), else the command itself.
 */
export function runCommandLine(cmd: readonly string[], buildArgs: ReadonlyArray<[string, string]>): string[] {
  if (buildArgs.length === 0) return [...cmd];
  const env = buildArgs.map(([k, v]) => `${k}=${v}`).sort();
  return [`|${env.length}`, ...env, ...cmd];
}
