import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunMounts } from './run-mounts.ts';
import { BuildArgs } from './build-args.ts';
import { shellScript } from './steps.ts';

test('RUN --mount: cache, bind from a stage (read-only by default), secret with its default target', () => {
  const m = parseRunMounts([
    { name: 'mount', value: 'type=cache,target=/root/.cache,id=pip' },
    { name: 'mount', value: 'type=bind,from=build,source=/out,target=/in' },
    { name: 'mount', value: 'type=secret,id=tok,required' },
    { name: 'network', value: 'none' },
  ]);
  assert.deepEqual(m.map((x) => [x.type, x.target, x.readonly]), [['cache', '/root/.cache', false], ['bind', '/in', true], ['secret', '/run/secrets/tok', false]]);
  assert.equal(m[0]!.id, 'pip');
  assert.equal(m[1]!.from, 'build');
  assert.equal(m[2]!.required, true);
  assert.throws(() => parseRunMounts([{ name: 'mount', value: 'type=weird,target=/x' }]), /unsupported mount type/);
  assert.throws(() => parseRunMounts([{ name: 'mount', value: 'type=cache' }]), /target is required/);
});

test('build args: --build-arg over default, meta value for a bare re-declaration, proxies without declaration, unused ones', () => {
  const a = new BuildArgs({ V: '2', HTTP_PROXY: 'http://p', EXTRA: 'x' });
  a.declareMeta('V', '1');
  a.declareMeta('M', 'meta');
  assert.equal(a.resolve('V', 'dflt'), '2');
  assert.equal(a.resolve('M', undefined), 'meta');
  assert.equal(a.resolve('N', undefined), undefined);
  assert.deepEqual(a.predefined(new Map()), [['HTTP_PROXY', 'http://p']]);
  assert.deepEqual(a.unused(), ['EXTRA']);
});

test('RUN heredocs: a lone heredoc is the script; otherwise the shell gets the here-documents', () => {
  assert.deepEqual(shellScript('<<EOF', [{ name: 'EOF', content: 'echo a\necho b\n', quoted: false }]), { script: 'echo a\necho b\n', alone: true });
  assert.equal(shellScript('cat <<EOF > /f', [{ name: 'EOF', content: 'x\n', quoted: false }]).script, 'cat <<EOF > /f\nx\nEOF');
});
