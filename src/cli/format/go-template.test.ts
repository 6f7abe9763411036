import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError, kindOf } from '../../lib/errors.ts';
import { GoTemplate, renderTemplate, TemplateError } from './go-template.ts';

// A container as `inspect` returns it (trimmed).
const container = {
  Id: '4f66ad9a0b2e6c5b0b6b2a1e7f3c9d8e1a2b3c4d5e6f708192a3b4c5d6e7f809',
  Name: '/distracted_meitner',
  Args: ['-c', 'echo hello && sleep 1'],
  State: { Status: 'running', Running: true, Paused: false, Pid: 4242, ExitCode: 0, StartedAt: '2024-05-01T10:00:00.123456789Z', Health: null },
  Config: { Hostname: '4f66ad9a0b2e', Env: ['PATH=/usr/bin', 'A=<b>&c'], Cmd: ['sh', '-c', 'echo hi'], Labels: { 'com.example.vendor': 'ACME', 'a.b': 'x' }, Tty: false, StopTimeout: null },
  Mounts: [{ Type: 'volume', Source: '/var/lib/berth/volumes/data/_data', Destination: '/data', RW: true }, { Type: 'bind', Source: '/tmp', Destination: '/host-tmp', RW: false }],
  NetworkSettings: { IPAddress: '172.17.0.2', Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '443/tcp': null }, Networks: { bridge: { IPAddress: '172.17.0.2', Gateway: '172.17.0.1' } } },
  SizeRw: 12345, Ratio: 0.25, Big: 1234567.5, Empty: [], EmptyMap: {}, Zero: 0, Str: '',
};

type Expected = string | { error: string };

/**
 * [template, expected output or error (without docker's "template parsing error: " prefix), data].
 * Every expectation here was produced by Go 1.19's text/template with docker's function map over
 * the same data (integers decoded as int), so these pin Go's behaviour, not ours.
 */
const GO_VERIFIED: Array<[string, Expected, unknown?]> = [
  ["{{.Id}}", "4f66ad9a0b2e6c5b0b6b2a1e7f3c9d8e1a2b3c4d5e6f708192a3b4c5d6e7f809"],
  ["{{.State.Pid}}", "4242"],
  ["{{range .Mounts}}{{.Source}} {{end}}", "/var/lib/berth/volumes/data/_data /tmp "],
  ["{{index .NetworkSettings.Ports \"80/tcp\"}}", "[map[HostIp:0.0.0.0 HostPort:8080]]"],
  ["{{(index (index .NetworkSettings.Ports \"80/tcp\") 0).HostPort}}", "8080"],
  ["{{.Config.Labels}}", "map[a.b:x com.example.vendor:ACME]"],
  ["{{.Nope}}", "<no value>"],
  ["{{.Nope.Deeper}}", "<no value>"],
  ["{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a.b=x;com.example.vendor=ACME;"],
  ["{{if eq .State.Status \"running\"}}up{{else if eq .State.Status \"exited\"}}down{{else}}other{{end}}", "up"],
  ["{{if .Empty}}x{{else}}empty{{end}} {{if .EmptyMap}}x{{else}}empty{{end}} {{if .Zero}}x{{else}}zero{{end}} {{if .Str}}x{{else}}blank{{end}}", "empty empty zero blank"],
  ["{{range .Empty}}x{{else}}none{{end}}", "none"],
  ["{{printf \"%-8s|%5d|%q|%x|%X|%t|%v|%s\" \"ab\" 42 \"q\\\"s\" \"hi\" 255 true .Args .Args}}", "ab      |   42|\"q\\\"s\"|6869|FF|true|[-c echo hello && sleep 1]|[-c echo hello && sleep 1]"],
  ["{{printf \"%05d|%+d|%.2f|%e|%g|%8.3f|%o|%b|%c|%U\" 42 7 3.14159 1234.5678 0.000012345 2.5 8 5 65 65}}", "00042|+7|3.14|1.234568e+03|1.2345e-05|   2.500|10|101|A|U+0041"],
  ["{{printf \"%d %s\" \"str\" 5}}", "%!d(string=str) %!s(int=5)"],
  ["{{printf \"%d\"}}", "%!d(MISSING)"],
  ["{{printf \"%d\" 1 2}}", "1%!(EXTRA int=2)"],
  ["{{printf \"%v %v %v\" .Config.Labels .Empty .EmptyMap}}", "map[a.b:x com.example.vendor:ACME] [] map[]"],
  ["{{len .Args}} {{len .Id}} {{len .Config.Labels}} {{len \"héllo\"}}", "2 64 2 6"],
  ["{{- \" a \" -}}  {{ .Id | printf \"%.4s\" -}}  \n x {{- /* comment */ -}} y", " a 4f66xy"],
  ["{{$x := .State.Pid}}{{$x}} {{$x = 7}}{{$x}} {{$.Name}}", "4242 7 /distracted_meitner"],
  ["{{with .State}}{{.Status}}/{{$.Name}}{{end}}{{with .Nope}}no{{else}}else{{end}}", "running//distracted_meitnerelse"],
  ["{{upper .Name | lower}} {{.Name | printf \"%s-%s\" \"pre\"}} {{title \"hello world-wide_web\"}}", "/distracted_meitner pre-/distracted_meitner Hello World-Wide_web"],
  ["{{println 1 2}}{{print 1 2 \"a\" 3 \"b\" \"c\"}}", "1 2\n1 2a3bc"],
  ["{{or .Nope \"default\"}} {{and 1 0}} {{and 1 2}} {{or 0 \"\"}} {{not .Empty}}", "default 0 2  true"],
  ["{{range $i, $e := .Args}}{{$i}}:{{$e}} {{end}}", "0:-c 1:echo hello && sleep 1 "],
  ["{{range $e := .Args}}[{{$e}}]{{end}}", "[-c][echo hello && sleep 1]"],
  ["{{split \"a:b:c\" \":\"}} {{index (split \"a:b:c\" \":\") 1}} {{len (split \"\" \",\")}}", "[a b c] b 1"],
  ["{{truncate .Id 12}}|{{pad \"x\" 2 3}}|{{pad \"\" 2 3}}|{{truncate \"ab\" 5}}", "4f66ad9a0b2e|  x   ||ab"],
  ["{{eq 1 1}} {{eq 1 2 3 1}} {{ne \"a\" \"b\"}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}} {{eq .Nope .Nope}}", "true true true true true true false true"],
  ["{{range .Args}}{{if eq . \"-c\"}}{{continue}}{{end}}{{.}}{{end}}", "echo hello && sleep 1"],
  ["{{range .Args}}{{.}}{{break}}{{end}}", "-c"],
  ["{{index .Args 0}} {{index .NetworkSettings.Networks \"bridge\" \"Gateway\"}} {{index .Config.Labels \"nope\"}}", "-c 172.17.0.1 <no value>"],
  ["{{slice .Id 0 12}} {{slice .Args 1}}", "4f66ad9a0b2e [echo hello && sleep 1]"],
  ["{{html \"<a href=\\\"x\\\">&</a>\"}} {{urlquery \"a b&c=d/é!\"}}", "&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt; a+b%26c%3Dd%2F%C3%A9%21"],
  ["{{json .Config.Env}} {{json .Nope}} {{json \"a\\u2028b\"}} {{json 1.5}}", "[\"PATH=/usr/bin\",\"A=<b>&c\"] null \"a\\u2028b\" 1.5"],
  ["{{.NetworkSettings.Networks.bridge.IPAddress}}", "172.17.0.2"],
  ["{{ .State.Running }}", "true"],
  ["{{.}}", "just a string", "just a string"],
  ["{{.}}", "[1 a true <nil> 2.5]", [1,"a",true,null,2.5]],
  ["{{`raw\\n`}} {{\"esc\\t\\x41\\u00e9\"}}", "raw\\n esc\tAé"],
  ["line1\n{{.Oops", { error: "template: :2: unclosed action" }],
  ["{{foo .}}", { error: "template: :1: function \"foo\" not defined" }],
  ["{{.State.Health.Status}}", { error: "template: :1:8: executing \"\" at <.State.Health.Status>: nil pointer evaluating interface {}.Status" }],
  ["{{index .Args 5}}", { error: "template: :1:2: executing \"\" at <index .Args 5>: error calling index: index out of range: 5" }],
  ["{{if}}{{end}}", { error: "template: :1: missing value for if" }],
  ["{{end}}", { error: "template: :1: unexpected {{end}}" }],
  ["{{else}}", { error: "template: :1: unexpected {{else}}" }],
  ["{{if 1}}", { error: "template: :1: unexpected EOF" }],
  ["{{join .Id \" \"}}", { error: "template: :1:7: executing \"\" at <.Id>: wrong type for value; expected []string; got string" }],
  ["{{join .Args}}", { error: "template: :1:2: executing \"\" at <join>: wrong number of args for join: want 2 got 1" }],
  ["{{upper 1}}", { error: "template: :1:8: executing \"\" at <1>: expected string; found 1" }],
  ["{{lt 1 \"a\"}}", { error: "template: :1:2: executing \"\" at <lt 1 \"a\">: error calling lt: incompatible types for comparison" }],
  ["{{$y}}", { error: "template: :1: undefined variable \"$y\"" }],
  ["{{.Id 1}}", { error: "template: :1:2: executing \"\" at <.Id>: Id is not a method but has arguments" }],
  ["{{\"a\" | \"b\"}}", { error: "template: :1: non executable command in pipeline stage 2" }],
  ["{{len 3}}", { error: "template: :1:2: executing \"\" at <len 3>: error calling len: len of type int" }],
  ["{{range .Id}}x{{end}}", { error: "template: :1:8: executing \"\" at <.Id>: range can't iterate over 4f66ad9a0b2e6c5b0b6b2a1e7f3c9d8e1a2b3c4d5e6f708192a3b4c5d6e7f809" }],
  ["{{nil}}", { error: "template: :1:2: executing \"\" at <nil>: nil is not a command" }],
  ["{{break}}", { error: "template: :1: {{break}} outside {{range}}" }],
  ["{{.A | }}", "<no value>"],
  ["a\nb\n{{ . | len | foo }}", { error: "template: :3: function \"foo\" not defined" }],
  ["{{eq .Args .Args}}", { error: "template: :1:2: executing \"\" at <eq .Args .Args>: error calling eq: non-comparable type [-c echo hello && sleep 1]: []interface {}" }],
  ["{{3 4}}", { error: "template: :1:2: executing \"\" at <3>: can't give argument to non-function 3" }],
  ["{{lt true false}}", { error: "template: :1:2: executing \"\" at <lt true false>: error calling lt: invalid type for comparison" }],
  ["{{index 1 2}}", { error: "template: :1:2: executing \"\" at <index 1 2>: error calling index: can't index item of type int" }],
  ["{{\"unterminated}}", { error: "template: :1: unterminated quoted string" }],
  ["{{1x}}", { error: "template: :1: bad number syntax: \"1x\"" }],
  ["{{printf}}", { error: "template: :1:2: executing \"\" at <printf>: wrong number of args for printf: want at least 1 got 0" }],
  ["{{eq 1}}", { error: "template: :1:2: executing \"\" at <eq 1>: error calling eq: missing argument for comparison" }],
  ["{{printf \"%5.1f|%-5d|%x|%q|%#x|%#o|% d|%+.2e|%10.4g|%-8q|\" 3.14159 42 -255 65 255 8 5 12345.678 3.14159265 \"a\"}}", "  3.1|42   |-ff|'A'|0xff|010| 5|+1.23e+04|     3.142|\"a\"     |", {}],
  ["{{printf \"%v|%s|%d\" .M .M .A}}", "map[a:[1 x] b:<nil>]|map[a:[%!s(int=1) x] b:<nil>]|[1 2]", {"M":{"b":null,"a":[1,"x"]},"A":[1,2]}],
  ["{{printf \"%5v|%-4v|%3s|\" .A \"ab\" .A}}", "[    x    yy]|ab  |[  x  yy]|", {"A":["x","yy"]}],
  ["{{printf \"%.3s|%.0f|%.1f|%g|%g|%g|%v\" \"abcdef\" 2.5 0.05 100000.0 1000000.0 0.0001 0.00001}}", "abc|2|0.1|100000|1e+06|0.0001|1e-05", {}],
  ["{{printf \"%T %T %T %T %T\" 1 1.5 \"s\" true .A}}", "int float64 string bool []interface {}", {"A":[1]}],
  ["{{printf \"%q\" \"tab\\there \\\"q\\\" é \\u0001 \\u2028\"}}", "\"tab\\there \\\"q\\\" é \\x01 \\u2028\"", {}],
  ["{{printf \"%z %!\" 1}}", "%!z(int=1) %!!(MISSING)", {}],
  ["{{printf \"%s\" nil}}", "%!s(<nil>)", {}],
  ["{{printf \"%d\" .X}}", "%!d(<nil>)", {"X":null}],
  ["{{printf \"%v\" .Missing}}", "<nil>", {}],
  ["{{printf \"%t %t\" true 1}}", "true %!t(int=1)", {}],
  ["{{printf \"%c%c\" 72 105}}", "Hi", {}],
  ["{{printf \"%08.3f|%-08d|%+08d\" -3.14159 42 42}}", "-003.142|42      |+0000042", {}],
  ["{{printf \"%6.2f%%\" 12.3456}}", " 12.35%", {}],
  ["{{printf \"%x %X\" \"hello\" \"hi\"}}", "68656c6c6f 6869", {}],
  ["{{printf \"%*d|%-*d|\" 5 42 4 7}}", "   42|7   |", {}],
  ["{{print nil 1 \"a\" nil}}|{{println \"a\" 1 nil}}", "<nil> 1a<nil>|a 1 <nil>\n", {}],
  ["{{print .A .B}}", "[1] map[k:v]", {"A":[1],"B":{"k":"v"}}],
  ["{{.F}} {{.G}} {{.H}} {{.I}} {{.J}}", "1e+21 1.23456789123e+08 -1.2e-05 1e-07 30000000000", {"F":1e+21,"G":123456789.123,"H":-0.000012,"I":1e-7,"J":30000000000}],
];

for (const [tmpl, expected, data] of GO_VERIFIED) {
  test(`template ${JSON.stringify(tmpl)}`, () => {
    const input = data === undefined ? container : data;
    if (typeof expected === 'string') {
      assert.equal(GoTemplate.parse(tmpl).execute(input), expected);
    } else {
      assert.throws(() => GoTemplate.parse(tmpl).execute(input), (e: unknown) => {
        assert.ok(e instanceof TemplateError);
        assert.equal(e.message, `template parsing error: ${expected.error}`);
        return true;
      });
    }
  });
}

// Deliberate differences from Go over raw maps: we stand in for docker's typed structs.
test('json keeps struct field order but sorts map keys (Labels, Ports) as Go marshals maps', () => {
  assert.equal(renderTemplate('{{json .Config}}', container),
    '{"Hostname":"4f66ad9a0b2e","Env":["PATH=/usr/bin","A=<b>&c"],"Cmd":["sh","-c","echo hi"],"Labels":{"a.b":"x","com.example.vendor":"ACME"},"Tty":false,"StopTimeout":null}');
  assert.equal(renderTemplate('{{json .NetworkSettings.Ports}}', container), '{"443/tcp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}');
});

test('json does not HTML-escape, like docker (SetEscapeHTML(false))', () => {
  assert.equal(renderTemplate('{{json .}}', { A: '<b>&' }), '{"A":"<b>&"}');
});

test('join accepts a JSON array of strings, as docker\'s []string fields', () => {
  assert.equal(renderTemplate('{{join .Args " "}}', container), '-c echo hello && sleep 1');
  assert.equal(renderTemplate('{{join .Config.Cmd ","}}', container), 'sh,-c,echo hi');
  assert.equal(renderTemplate('{{join .Nil ","}}', { Nil: null }), '');
});

test('null prints as <nil> (a nil pointer in docker), a missing key as <no value>', () => {
  assert.equal(renderTemplate('{{.State.Health}}|{{.State.Nope}}', container), '<nil>|<no value>');
  assert.equal(renderTemplate('{{range $p, $c := .NetworkSettings.Ports}}{{$p}}={{$c}} {{end}}', container),
    '443/tcp=<nil> 80/tcp=[map[HostIp:0.0.0.0 HostPort:8080]] ');
});

test('len of null is 0 (a nil slice in docker)', () => {
  assert.equal(renderTemplate('{{len .Config.StopTimeout}}', container), '0');
});

test('field errors name the value\'s type', () => {
  assert.throws(() => renderTemplate('{{.Id.X}}', container), { message: /at <\.Id\.X>: can't evaluate field X in type string$/ });
});

test('functions on the data are called like Go methods, with arguments', () => {
  const row = { ID: 'abc', Label: (k: string) => ({ app: 'web' })[k] ?? '', Size: () => '1.2kB' };
  assert.equal(renderTemplate('{{.ID}} {{.Label "app"}} {{.Size}} {{"app" | .Label}}', row), 'abc web 1.2kB web');
  assert.throws(() => renderTemplate('{{.Boom}}', { Boom: () => { throw new Error('bad'); } }), { message: /error calling Boom: bad$/ });
});

test('range over an integer (Go 1.22)', () => {
  assert.equal(renderTemplate('{{range 3}}{{.}}{{end}}', {}), '012');
});

test('else with (Go 1.23)', () => {
  assert.equal(renderTemplate('{{with .A}}a{{else with .B}}b={{.}}{{else}}none{{end}}', { B: 2 }), 'b=2');
});

test('range with assignment to outer variables', () => {
  assert.equal(renderTemplate('{{$last := ""}}{{range .Args}}{{$last = .}}{{end}}{{$last}}', container), 'echo hello && sleep 1');
});

test('nested ranges keep $ and outer variables', () => {
  assert.equal(renderTemplate('{{range $m := .Mounts}}{{range $.Args}}{{$m.Type}}:{{.}};{{end}}{{end}}', container),
    'volume:-c;volume:echo hello && sleep 1;bind:-c;bind:echo hello && sleep 1;');
});

test('trim markers and newlines across a multi-line template', () => {
  const t = '{{range .Mounts -}}\n  {{ .Destination }}\n{{- end }}\n';
  assert.equal(renderTemplate(t, container), '/data/host-tmp\n');
});

test('a template parses once and executes many times', () => {
  const t = GoTemplate.parse('{{.Name}}');
  assert.equal(t.execute({ Name: 'a' }), 'a');
  assert.equal(t.execute({ Name: 'b' }), 'b');
});

test('errors are EngineError InvalidParameter', () => {
  try {
    GoTemplate.parse('{{foo}}');
    assert.fail('no error');
  } catch (e) {
    assert.ok(e instanceof EngineError);
    assert.equal(kindOf(e), 'InvalidParameter');
    assert.equal((e as Error).message, 'template parsing error: template: :1: function "foo" not defined');
  }
});

test('executeHeader maps fields to titles, keeps pad, and ignores method arguments', () => {
  const t = GoTemplate.parse('{{.ID}}\t{{upper .Image}}\t{{.Label "x"}}\t{{pad .Names 1 1}}\t{{.Other}}');
  assert.equal(t.executeHeader({ ID: 'CONTAINER ID', Image: 'IMAGE', Label: 'LABEL', Names: 'NAMES' }), 'CONTAINER ID\tIMAGE\tLABEL\t NAMES \tOTHER');
});

test('executeHeader returns the partial header when the template fails, as docker does', () => {
  const t = GoTemplate.parse('{{.ID}}\t{{range .ID}}x{{end}}');
  assert.equal(t.executeHeader({ ID: 'CONTAINER ID' }), 'CONTAINER ID\t');
});

test('custom functions can be added', () => {
  const t = GoTemplate.parse('{{shout .A}}', { funcs: { shout: { arity: 1, fn: (a) => `${String(a[0])}!` } } });
  assert.equal(t.execute({ A: 'hi' }), 'hi!');
});
