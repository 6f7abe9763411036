import { EngineError } from '../../lib/errors.ts';

/** A user resolved against the image's /etc/passwd and /etc/group. */
export interface ResolvedUser { uid: number; gid: number; additionalGids: number[] }

interface PasswdEntry { name: string; uid: number; gid: number }
interface GroupEntry { name: string; gid: number; members: string[] }

const isNumeric = (s: string) => /^\d+$/.test(s);

function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).flatMap((l) => {
    const f = l.split(':');
    if (f.length < 4 || !isNumeric(f[2]!) || !isNumeric(f[3]!)) return [];
    return [{ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }];
  });
}

function parseGroup(text: string): GroupEntry[] {
  return lines(text).flatMap((l) => {
    const f = l.split(':');
    if (f.length < 3 || !isNumeric(f[2]!)) return [];
    return [{ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean) }];
  });
}

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

/**
 * Resolves a Docker `--user` value (`""`, `name`, `uid`, `name:group`, `uid:gid`, `uid:group`)
 * against the image's passwd and group file contents (pass "" when a file is missing), with
 * runc's GetExecUser rules: an empty user is root; a numeric uid absent from passwd is used as is
 * with gid 0; a named user takes its passwd gid and, when no group was given explicitly, the
 * groups listing it as a member become supplementary groups. `groupAdd` (HostConfig.GroupAdd)
 * names or numbers are appended. The primary gid is always first in additionalGids (so setgroups
 * never leaves stray supplementary groups).
 * Pure. Throws InvalidParameter `unable to find user X: no matching entries in passwd file` (and
 * the group equivalent), Docker's wording.
 */
export function resolveUser(spec: string, passwd: string, group: string, groupAdd: readonly string[] = []): ResolvedUser {
  const [userPart = '', groupPart = ''] = splitOnce(spec.trim(), ':');
  const users = parsePasswd(passwd);
  const groups = parseGroup(group);
  let uid = 0;
  let gid = 0;
  let matchedName: string | undefined;
  const userArg = userPart === '' ? (groupPart === '' ? 'root' : '') : userPart;
  if (userArg !== '') {
    const entry = users.find((u) => u.name === userArg) ?? (isNumeric(userArg) ? users.find((u) => u.uid === Number(userArg)) : undefined);
    if (entry) {
      uid = entry.uid;
      gid = entry.gid;
      matchedName = entry.name;
    } else if (isNumeric(userArg)) {
      uid = Number(userArg);
    } else if (userArg === 'root' && userPart === '') {
      // No passwd entry for root in a bare image: root is still uid 0 / gid 0.
    } else {
      throw new EngineError('InvalidParameter', `unable to find user ${userArg}: no matching entries in passwd file`);
    }
  }
  let supplementary: number[] = [];
  if (groupPart !== '') {
    gid = findGroup(groupPart, groups);
  } else if (matchedName !== undefined) {
    supplementary = groups.filter((g) => g.members.includes(matchedName!)).map((g) => g.gid);
  }
  for (const g of groupAdd) supplementary.push(findGroup(g, groups));
  checkId('uid', uid);
  checkId('gid', gid);
  return { uid, gid, additionalGids: [...new Set([gid, ...supplementary])] };
}

function findGroup(arg: string, groups: GroupEntry[]): number {
  const byName = groups.find((g) => g.name === arg);
  if (byName) return byName.gid;
  if (isNumeric(arg)) return Number(arg);
  throw new EngineError('InvalidParameter', `unable to find group ${arg}: no matching entries in group file`);
}

function checkId(what: string, id: number): void {
  if (!Number.isSafeInteger(id) || id < 0 || id > 0x7fffffff) {
    throw new EngineError('InvalidParameter', `${what} ${id} is out of range`);
  }
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}
