import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateError } from './go-template.ts';
import { isTableFormat, renderEach, renderList, rowJson, templateBody } from './formatter.ts';

const containers = [
  { ID: 'a1b2c3d4e5f6', Image: 'busybox', Command: '"sh"', Status: 'Up 5 minutes', Names: 'distracted_meitner', Labels: 'a=1,b=2' },
  { ID: '0123456789ab', Image: 'alpine:3.20', Command: '"echo \'Hello World\'"', Status: 'Exited (0) 2 seconds ago', Names: 'x', Labels: '' },
];
const opts = {
  defaultTable: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Status}}\t{{.Names}}',
  headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', Status: 'STATUS', Names: 'NAMES', Labels: 'LABELS' },
};

const defaultTable =
  'CONTAINER ID   IMAGE         COMMAND                STATUS                     NAMES\n' +
  'a1b2c3d4e5f6   busybox       "sh"                   Up 5 minutes               distracted_meitner\n' +
  '0123456789ab   alpine:3.20   "echo \'Hello World\'"   Exited (0) 2 seconds ago   x\n';

test('no --format and --format table give the default table', () => {
  assert.equal(renderList(containers, { ...opts, format: undefined }), defaultTable);
  assert.equal(renderList(containers, { ...opts, format: '' }), defaultTable);
  assert.equal(renderList(containers, { ...opts, format: 'table' }), defaultTable);
});

test('an empty list still prints the header', () => {
  assert.equal(renderList([], { ...opts, format: undefined }), 'CONTAINER ID   IMAGE     COMMAND   STATUS    NAMES\n');
});

test('table TEMPLATE: header from the field names, literal \\t typed in a shell works', () => {
  assert.equal(renderList(containers, { ...opts, format: 'table {{.ID}}\\t{{.Names}}' }),
    'CONTAINER ID   NAMES\na1b2c3d4e5f6   distracted_meitner\n0123456789ab   x\n');
});

test('table header: functions return the title unchanged; unknown fields show their name', () => {
  assert.equal(renderList(containers.slice(0, 1), { ...opts, format: 'table {{upper .Image}}\t{{json .Names}}\t{{.Extra}}' }),
    'IMAGE     NAMES                  EXTRA\nBUSYBOX   "distracted_meitner"   <no value>\n');
});

test('raw template: one line per item, no header, no alignment', () => {
  assert.equal(renderList(containers, { ...opts, format: '{{.ID}}: {{.Names}}' }), 'a1b2c3d4e5f6: distracted_meitner\n0123456789ab: x\n');
  assert.equal(renderList(containers, { ...opts, format: '  {{.ID}}\\t{{.Image}} ' }), 'a1b2c3d4e5f6\tbusybox\n0123456789ab\talpine:3.20\n');
});

test('json: one compact object per line, keys sorted, HTML left alone', () => {
  assert.equal(renderList([{ Names: 'a', ID: '1', Cmd: '<x>&' }], { ...opts, format: 'json' }), '{"Cmd":"<x>&","ID":"1","Names":"a"}\n');
});

test('toRow maps items; zero-argument methods appear in json, others do not', () => {
  const items = [{ id: 'abc', size: 1234 }];
  const toRow = (i: { id: string; size: number }) => ({ ID: i.id, Size: () => `${i.size}B`, Label: (k: string) => k });
  assert.equal(renderList(items, { ...opts, format: '{{.ID}} {{.Size}} {{.Label "k"}}', toRow }), 'abc 1234B k\n');
  assert.equal(rowJson(toRow(items[0]!)), '{"ID":"abc","Size":"1234B"}');
});

test('bad templates throw TemplateError with docker\'s message', () => {
  assert.throws(() => renderList(containers, { ...opts, format: '{{.ID' }), (e: unknown) =>
    e instanceof TemplateError && e.message === 'template parsing error: template: :1: unclosed action');
  assert.throws(() => renderList(containers, { ...opts, format: 'table {{nope .ID}}' }), /function "nope" not defined/);
});

test('renderEach: inspect -f runs the template per item', () => {
  assert.equal(renderEach([{ State: { Pid: 1 } }, { State: { Pid: 2 } }], '{{.State.Pid}}'), '1\n2\n');
});

test('format helpers', () => {
  assert.equal(isTableFormat('table {{.ID}}'), true);
  assert.equal(isTableFormat('{{.ID}}'), false);
  assert.equal(templateBody('table  {{.ID}}\\t{{.Image}}\\n'), '{{.ID}}\t{{.Image}}\n');
});
