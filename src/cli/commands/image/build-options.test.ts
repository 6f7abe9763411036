import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlagError } from '../../args/spec.ts';
import {
  parseBuildArgs, parseExtraHosts, parseLabels, parseOutputs, parseProgress, parseSecrets, splitCsv, validateTags,
} from './build-options.ts';

test('--build-arg KEY takes the value from the environment, and stays null when unset', () => {
  const env = { PROXY: 'http://p:3128', EMPTY: '' };
  assert.deepEqual(parseBuildArgs(['A=1', 'B=', 'PROXY', 'EMPTY', 'MISSING', 'C=x=y'], env), {
    A: '1', B: '', PROXY: 'http://p:3128', EMPTY: '', MISSING: null, C: 'x=y',
  });
  assert.throws(() => parseBuildArgs(['=v'], env), (e: Error) => e instanceof FlagError && /invalid environment variable: =v/.test(e.message));
});

test('--label KEY alone is an empty value; an empty name is refused', () => {
  assert.deepEqual(parseLabels(['a=1', 'b', 'c=x=y']), { a: '1', b: '', c: 'x=y' });
  assert.throws(() => parseLabels(['=x']), /invalid label '=x': empty name/);
});

test('-t must be a valid reference, with docker wording', () => {
  assert.deepEqual(validateTags(['web', 'localhost:5000/a/b:v1']), ['web', 'localhost:5000/a/b:v1']);
  assert.throws(() => validateTags(['Web']), (e: Error) => e instanceof FlagError
    && e.message === 'invalid argument "Web" for "-t, --tag" flag: invalid reference format: repository name (library/Web) must be lowercase');
  assert.throws(() => validateTags(['a:b:c']), /invalid argument "a:b:c" for "-t, --tag" flag: invalid reference format/);
});

test('--add-host accepts host:ip, host=ip, [v6] and host-gateway', () => {
  assert.deepEqual(parseExtraHosts(['db:10.0.0.2', 'x=1.2.3.4', 'v6:[::1]', 'gw:host-gateway']), ['db:10.0.0.2', 'x:1.2.3.4', 'v6:::1', 'gw:host-gateway']);
  assert.throws(() => parseExtraHosts(['nocolon']), /bad format for add-host/);
  assert.throws(() => parseExtraHosts(['h:999.1.1.1']), /invalid IP address/);
});

test('--output: CSV, a bare directory, "-" and the errors buildx gives', () => {
  assert.deepEqual(parseOutputs([]), { type: 'image' });
  assert.deepEqual(parseOutputs(['type=local,dest=out']), { type: 'local', dest: 'out' });
  assert.deepEqual(parseOutputs(['out/dir']), { type: 'local', dest: 'out/dir' });
  assert.deepEqual(parseOutputs(['type=tar,dest=img.tar']), { type: 'tar', dest: 'img.tar' });
  assert.deepEqual(parseOutputs(['-']), { type: 'tar', dest: '-' });
  assert.deepEqual(parseOutputs(['type=tar']), { type: 'tar', dest: '-' });
  assert.deepEqual(parseOutputs(['type=image']), { type: 'image' });
  assert.deepEqual(parseOutputs(['type=local,"dest=a,b"']), { type: 'local', dest: 'a,b' });
  assert.throws(() => parseOutputs(['type=local']), /dest directory is required for local exporter/);
  assert.throws(() => parseOutputs(['-'], true), /refusing to write to console/);
  assert.throws(() => parseOutputs(['type=registry']), /output type "registry" is not supported/);
  assert.throws(() => parseOutputs(['a', 'b']), /multiple outputs/);
  assert.throws(() => parseOutputs(['dest=x']), /type is required/);
});

test('--secret: id defaults to the file name, env secrets, bad ids and duplicates', () => {
  assert.deepEqual(parseSecrets(['id=tok,src=/tmp/t.txt', 'src=/etc/key.pem', 'id=aws,env=AWS_KEY', 'type=env,id=HOME', 'source=./a']), [
    { id: 'tok', source: { file: '/tmp/t.txt' } },
    { id: 'key.pem', source: { file: '/etc/key.pem' } },
    { id: 'aws', source: { env: 'AWS_KEY' } },
    { id: 'HOME', source: { env: 'HOME' } },
    { id: 'a', source: { file: './a' } },
  ]);
  assert.throws(() => parseSecrets(['id=x']), /src is required/);
  assert.throws(() => parseSecrets(['id=../x,src=/a']), /invalid id/);
  assert.throws(() => parseSecrets(['id=a,src=/a', 'id=a,src=/b']), /duplicate id/);
  assert.throws(() => parseSecrets(['id=a,src=/a,type=ssh']), /unsupported type/);
});

test('--progress auto follows the terminal', () => {
  assert.equal(parseProgress('auto', true), 'tty');
  assert.equal(parseProgress('auto', false), 'plain');
  assert.equal(parseProgress(undefined, false), 'plain');
  assert.equal(parseProgress('tty', false), 'tty');
  assert.equal(parseProgress('plain', true), 'plain');
  assert.throws(() => parseProgress('fancy', true), /invalid progress mode "fancy"/);
});

test('splitCsv keeps quoted commas', () => {
  assert.deepEqual(splitCsv('a=1, b="x,y" ,c'), ['a=1', 'b=x,y', 'c']);
});
