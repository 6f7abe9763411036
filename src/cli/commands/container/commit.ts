import type * as api from '../../../api/types/index.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, type Flags, bool, list, str } from '../../context.ts';

export const commitSpec: CommandSpec = {
  name: 'commit', usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]', description: "Create a new image from a container's changes",
  aliases: ['container commit'],
  flags: [
    { name: 'author', short: 'a', kind: 'string', description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', kind: 'string[]', description: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', kind: 'string', description: 'Commit message' },
    { name: 'pause', short: 'p', kind: 'bool', description: 'Pause container during commit', default: true },
    { name: 'no-pause', kind: 'bool', description: 'Disable pausing container during commit' },
  ],
  minArgs: 1, maxArgs: 2,
};

/** `berth commit`: prints the new image's ID (sha256:...). */
export async function commit(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const [container, ref] = args as [string, string | undefined];
  let repo: string | undefined;
  let tag: string | undefined;
  if (ref) {
    const at = ref.lastIndexOf(':');
    const slash = ref.lastIndexOf('/');
    [repo, tag] = at > slash ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, undefined];
  }
  const pause = bool(f, 'pause') && !bool(f, 'no-pause');
  const r = await ctx.client.json<api.CommitResponse>('POST', '/commit', {
    query: { container, repo, tag, comment: str(f, 'message'), author: str(f, 'author'), changes: list(f, 'change'), pause: pause ? 'true' : 'false' },
  });
  ctx.stdout.write(`${r.Id}\n`);
}
