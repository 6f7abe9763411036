import type { CommandSpec } from '../../args/spec.ts';
import { ExitError, type CliContext, type Flags } from '../../context.ts';
import { GLOBAL_SPEC } from '../../global-options.ts';
import { CATALOG, GROUPS } from '../index.ts';
import { bashCompletion } from './bash.ts';
import { fishCompletion } from './fish.ts';
import { completionModel, type CompletionModel } from './model.ts';
import { zshCompletion } from './zsh.ts';

export const completionSpec: CommandSpec = {
  name: 'completion', usage: 'bash|zsh|fish',
  description: 'Generate the autocompletion script for the specified shell',
  flags: [], minArgs: 1, maxArgs: 1,
};

const SHELLS: Readonly<Record<string, (m: CompletionModel) => string>> = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion };

/** The model of every command berth has (loads them all: never on a quick path). */
export async function berthCompletionModel(): Promise<CompletionModel> {
  const loaded = await Promise.all(CATALOG.map(async (c) => ({ paths: c.paths, spec: (await c.load()).spec })));
  return completionModel(loaded, GROUPS, GLOBAL_SPEC.flags);
}

/** `berth completion bash|zsh|fish`: prints the script for that shell. */
export async function completion(ctx: CliContext, _f: Flags, args: string[]): Promise<void> {
  const generate = SHELLS[args[0]!];
  if (!generate) throw new ExitError(1, `berth: unsupported shell ${JSON.stringify(args[0])}: use bash, zsh or fish`);
  ctx.stdout.write(generate(await berthCompletionModel()));
}
