import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './parse.ts';
import { runPlan } from './run-plan.ts';

function planOf(line: string) {
  const inst = parseDockerfile(`FROM a\n${line}`).stages[0]!.instructions[0]!;
  assert.equal(inst.kind, 'RUN');
  return inst.kind === 'RUN' ? runPlan(inst.command, inst.heredocs) : undefined;
}

test('exec and plain shell forms', () => {
  assert.deepEqual(planOf('RUN ["echo", "hi"]'), { kind: 'exec', args: ['echo', 'hi'] });
  assert.deepEqual(planOf('RUN echo hi && true'), { kind: 'shell', script: 'echo hi && true' });
});

test('a lone heredoc is the script; with #! it becomes an executable file', () => {
  assert.deepEqual(planOf('RUN <<EOF\necho $HOME\nls\nEOF\n'), { kind: 'shell', script: 'echo $HOME\nls\n' });
  assert.deepEqual(planOf('RUN <<-EOF\n\techo a\n\tEOF\n'), { kind: 'shell', script: 'echo a\n' });
  assert.deepEqual(planOf('RUN <<script.py\n#!/usr/bin/env python3\nprint(1)\nscript.py\n'),
    { kind: 'file', name: 'script.py', content: '#!/usr/bin/env python3\nprint(1)\n' });
});

test('a command using heredocs is re-assembled for the shell', () => {
  assert.deepEqual(planOf('RUN cat <<A > /a && cat <<"B" > /b\n1\nA\n$2\nB\n'),
    { kind: 'shell', script: 'cat <<A > /a && cat <<"B" > /b\n1\nA\n$2\nB' });
  assert.deepEqual(planOf('RUN <<EOF bash\necho hi\nEOF\n'), { kind: 'shell', script: '<<EOF bash\necho hi\nEOF' });
});
