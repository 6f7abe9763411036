import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoTemplate } from '../../format/go-template.ts';
import { eventTemplateContext } from './events.ts';

const render = (format: string, ev: Parameters<typeof eventTemplateContext>[0]) => GoTemplate.parse(format).execute(eventTemplateContext(ev));
const started = {
  status: 'start', id: 'c1', from: 'busybox', Type: 'container', Action: 'start',
  Actor: { ID: 'c1', Attributes: { name: 'web', image: 'busybox' } }, scope: 'local', time: 1733587200, timeNano: 1733587200123456800,
};

test('events --format sees docker\'s field names, the legacy ones included', () => {
  assert.equal(render('{{.ID}} {{.Status}} {{.From}} {{.Time}} {{.TimeNano}} {{.Scope}}', started), 'c1 start busybox 1733587200 1733587200123456800 local');
  assert.equal(render('{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}', started), 'container start c1 web');
});

test('events --format: fields the daemon leaves out are empty, as in a Go struct, not <no value>', () => {
  const net = { Type: 'network', Action: 'create', Actor: { ID: 'n1', Attributes: { name: 'x' } }, scope: 'local', time: 1, timeNano: 1_000_000_000 };
  assert.equal(render('[{{.ID}}][{{.Status}}][{{.From}}] {{.Scope}}', net), '[][][] local');
});

test('events {{json .}} prints the message in docker\'s field order, attributes sorted', () => {
  assert.equal(render('{{json .}}', started),
    '{"status":"start","id":"c1","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"c1","Attributes":{"image":"busybox","name":"web"}},"scope":"local","time":1733587200,"timeNano":1733587200123456800}');
});
