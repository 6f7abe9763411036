import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type * as api from '../../../api/types/index.ts';
import { ApiError } from '../../../client/client.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags, bool } from '../../context.ts';
import {
  CopyError, type CopyInfo, extractLocal, getRebaseName, localDestinationInfo, localSourceInfo, localTar, nameRebaser,
  prepareArchiveCopy, resolveLocalPath, splitPathDirEntry,
} from './cp-local.ts';

export const cpSpec: CommandSpec = {
  name: 'cp', usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  description: 'Copy files/folders between a container and the local filesystem', aliases: ['container cp'],
  flags: [
    { name: 'archive', short: 'a', kind: 'bool', description: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', kind: 'bool', description: 'Always follow symlinks in SRC_PATH' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
  minArgs: 2, maxArgs: 2,
};

const STAT_HEADER = 'x-docker-container-path-stat';
const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const GO_MODE_DEVICE = 2 ** 26;
const isDir = (mode: number) => Math.floor(mode / GO_MODE_DIR) % 2 === 1;
const hasBit = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;

/** docker's splitCpArg: "c:/p" names a container path unless the argument is an explicit local path. */
export function splitCpArg(arg: string): [container: string, path: string] {
  if (arg.startsWith('/')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

export async function cp(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const [src = '', dst = ''] = args;
  if (src === '') throw new ExitError(1, 'source can not be empty');
  if (dst === '') throw new ExitError(1, 'destination can not be empty');
  const [srcC, srcPath] = splitCpArg(src);
  const [dstC, dstPath] = splitCpArg(dst);
  const opts = { followLink: bool(f, 'follow-link'), copyUIDGID: bool(f, 'archive') };
  try {
    if (srcC && dstC) throw new ExitError(1, 'copying between containers is not supported');
    if (srcC) return await copyFromContainer(ctx, srcC, srcPath, dstPath, opts.followLink);
    if (dstC) return await copyToContainer(ctx, dstC, srcPath, dstPath, opts);
    throw new ExitError(1, 'must specify at least one container source');
  } catch (err) {
    if (err instanceof CopyError) throw new ExitError(1, err.message);
    throw err;
  }
}

async function statPath(ctx: CliContext, container: string, path: string): Promise<api.ContainerPathStat> {
  const res = await ctx.client.raw('HEAD', `/containers/${container}/archive`, { query: { path } });
  res.resume();
  return decodeStat(res.headers[STAT_HEADER]);
}

function decodeStat(h: string | string[] | undefined): api.ContainerPathStat {
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) throw new ExitError(1, 'unable to get resource stat from response');
  return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as api.ContainerPathStat;
}

async function copyFromContainer(ctx: CliContext, container: string, srcPath0: string, dst: string, followLink: boolean): Promise<void> {
  let srcPath = srcPath0;
  let dstPath = dst;
  if (dstPath !== '-') {
    dstPath = resolveLocalPath(dstPath);
    await validateOutputPath(dstPath);
  }
  let rebaseName = '';
  if (followLink) {
    const s = await statPath(ctx, container, srcPath).catch(() => null);
    if (s && hasBit(s.mode, GO_MODE_SYMLINK)) {
      let target = s.linkTarget;
      if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(srcPath)[0], target);
      [srcPath, rebaseName] = getRebaseName(srcPath, target);
    }
  }
  const res = await ctx.client.raw('GET', `/containers/${container}/archive`, { query: { path: srcPath } });
  if (dstPath === '-') {
    await pipeline(res, ctx.stdout);
    return;
  }
  const s = decodeStat(res.headers[STAT_HEADER]);
  const srcInfo: CopyInfo = { path: srcPath, exists: true, isDir: isDir(s.mode), rebaseName };
  const renames: ((n: string) => string)[] = [];
  if (rebaseName) renames.push(nameRebaser(splitPathDirEntry(srcPath)[1], rebaseName));
  const dstInfo = await localDestinationInfo(dstPath);
  const prep = prepareArchiveCopy(srcInfo, dstInfo);
  if (prep.rebase) renames.push(nameRebaser(prep.rebase[0], prep.rebase[1]));
  try {
    await extractLocal(res, prep.dstDir, (n) => renames.reduce((acc, r) => r(acc), n));
  } finally {
    res.destroy();
  }
}

async function copyToContainer(ctx: CliContext, container: string, src: string, dstPath: string, o: { followLink: boolean; copyUIDGID: boolean }): Promise<void> {
  const srcPath = src === '-' ? src : resolveLocalPath(src);
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  try {
    let s = await statPath(ctx, container, dstPath);
    if (hasBit(s.mode, GO_MODE_SYMLINK)) {
      let target = s.linkTarget;
      if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(dstPath)[0], target);
      dstInfo.path = target;
      s = await statPath(ctx, container, target);
    }
    if (hasBit(s.mode, GO_MODE_DEVICE)) throw new ExitError(1, `destination "${container}:${dstPath}" must be a directory or a regular file: got a device`);
    dstInfo.exists = true;
    dstInfo.isDir = isDir(s.mode);
  } catch (err) {
    // As docker: a failed stat means "assume the parent exists"; the extraction says otherwise.
    if (!(err instanceof ApiError)) throw err;
  }
  let body: NodeJS.ReadableStream;
  let dstDir: string;
  if (srcPath === '-') {
    if (!dstInfo.isDir) throw new ExitError(1, `destination "${container}:${dstPath}" must be a directory`);
    body = ctx.stdin;
    dstDir = dstInfo.path;
  } else {
    const srcInfo = await localSourceInfo(srcPath, o.followLink);
    const prep = prepareArchiveCopy(srcInfo, dstInfo);
    // Entries are named for where they land: the source's base, or the rename PrepareArchiveCopy asks for.
    const srcBase = srcInfo.rebaseName || splitPathDirEntry(srcInfo.path)[1];
    const name = prep.rebase ? nameRebaser(prep.rebase[0], prep.rebase[1])(srcBase) : srcBase;
    body = localTar(srcInfo.path.replace(/\/\.$/, '') || '/', name);
    dstDir = prep.dstDir;
  }
  const res = await ctx.client.raw('PUT', `/containers/${container}/archive`, {
    query: { path: dstDir, ...(o.copyUIDGID ? { copyUIDGID: 'true' } : {}) },
    rawBody: body, headers: { 'Content-Type': 'application/x-tar' },
  });
  res.resume();
}

/** docker's ValidateOutputPath: the parent must exist; an existing path must be a directory or a regular file. */
async function validateOutputPath(path: string): Promise<void> {
  const dir = posix.dirname(posix.normalize(path).replace(/\/+$/, '') || '/');
  if (dir !== '.' && !(await stat(dir).catch(() => null))) throw new ExitError(1, `invalid output path: directory "${dir}" does not exist`);
  const st = await stat(path).catch(() => null);
  if (st && !st.isDirectory() && !st.isFile()) {
    const what = st.isBlockDevice() || st.isCharacterDevice() ? 'got a device' : 'got an irregular file';
    throw new ExitError(1, `invalid output path: "${path}" must be a directory or a regular file: ${what}`);
  }
}
