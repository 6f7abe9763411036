import type { CommandForm, Heredoc } from './ast.ts';
import { parseHeredocWord } from './heredoc-words.ts';

/**
 * How to run a RUN instruction, with BuildKit's here-document rules:
 * - exec (JSON) form: the arguments as they are;
 * - shell form without heredocs: the command through the stage's SHELL (default `/bin/sh -c`);
 * - `RUN <<EOF` alone: the heredoc IS the script. If it starts with `#!`, it is written to a file
 *   (mode 0755) and executed directly, so its interpreter runs it; otherwise it goes to the SHELL
 *   as the command text;
 * - a command that uses heredocs (`RUN cat <<EOF > f`): the command line plus each body and its
 *   delimiter, re-assembled into one script for the SHELL, which then handles the heredocs itself.
 *
 * Heredoc bodies of RUN are never expanded by the builder: the shell does it while running.
 */
export type RunPlan =
  | { kind: 'exec'; args: string[] }
  | { kind: 'shell'; script: string }
  | { kind: 'file'; name: string; content: string };

/** The RunPlan for a RUN instruction's command and heredocs (see RunPlan). Pure. */
export function runPlan(command: CommandForm, heredocs: readonly Heredoc[]): RunPlan {
  if (command.kind === 'exec') return { kind: 'exec', args: [...command.args] };
  const first = heredocs[0];
  if (!first) return { kind: 'shell', script: command.command };
  if (parseHeredocWord(command.command)) {
    return first.content.startsWith('#!')
      ? { kind: 'file', name: first.name, content: first.content }
      : { kind: 'shell', script: first.content };
  }
  let script = command.command;
  for (const doc of heredocs) script += `\n${doc.content}${doc.name}`;
  return { kind: 'shell', script };
}
