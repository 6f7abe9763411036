/** One authentication challenge from a WWW-Authenticate header: scheme (lowercase) and its parameters. */
export interface AuthChallenge {
  scheme: string;
  /** Parameter names lowercased, values unquoted ("realm", "service", "scope", "error"). */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/**
 * Parses WWW-Authenticate header values (RFC 7235): several challenges per header, separated by
 * commas, each `scheme k=v, k="quoted, with \"escapes\""`. A token68 value (`Basic abc==`) is
 * skipped. Unparseable tails are dropped rather than thrown on: a registry's odd header should
 * not fail a pull that may need no auth at all.
 */
export function parseWwwAuthenticate(values: string | readonly string[] | undefined): AuthChallenge[] {
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  const out: AuthChallenge[] = [];
  for (const value of list) parseOne(value, out);
  return out;
}

function parseOne(header: string, out: AuthChallenge[]): void {
  let s = header;
  let current: AuthChallenge | undefined;
  const skipSpace = () => { s = s.replace(/^[ \t]+/, ''); };
  for (;;) {
    skipSpace();
    while (s.startsWith(',')) { s = s.slice(1); skipSpace(); }
    if (!s) return;
    const tok = TOKEN.exec(s);
    if (!tok) return;
    const word = tok[0];
    const rest = s.slice(word.length).replace(/^[ \t]+/, '');
    if (current && rest.startsWith('=') && !/^=+\s*(,|$)/.test(rest)) {
      // A parameter of the current challenge.
      s = rest.slice(1).replace(/^[ \t]+/, '');
      let value: string;
      if (s.startsWith('"')) {
        let i = 1;
        value = '';
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        s = s.slice(i + 1);
      } else {
        const m = /^[^,\s]*/.exec(s)![0];
        value = m;
        s = s.slice(m.length);
      }
      current.params[word.toLowerCase()] = value;
      continue;
    }
    // A new challenge: scheme, then maybe a token68 (which we skip).
    current = { scheme: word.toLowerCase(), params: {} };
    out.push(current);
    s = rest;
    const t68 = /^[A-Za-z0-9\-._~+/]+=*\s*(?=,|$)/.exec(s);
    if (t68 && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\s*=[^=]/.test(s)) s = s.slice(t68[0].length);
  }
}
