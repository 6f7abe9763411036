import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { apiRequest } from './api-request.ts';
import { REPO, daemonFor, requireRoot, waitFor, type RunResult, type TestDaemon } from './harness.ts';

type Cli = 'berth' | 'docker';
const CLIS: readonly Cli[] = ['berth', 'docker'];

/** argv and environment for one CLI against the test daemon. */
function cliCommand(d: TestDaemon, cli: Cli, args: string[]): { cmd: string; argv: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') };
  return cli === 'berth' ? { cmd: process.execPath, argv: [join(REPO, 'dist/berth.mjs'), ...args], env } : { cmd: 'docker', argv: args, env };
}

/** Runs a CLI with binary stdin; a hang fails the test after 30 s instead of blocking the suite. */
function runWithInput(d: TestDaemon, cli: Cli, args: string[], input: Buffer): RunResult {
  const { cmd, argv, env } = cliCommand(d, cli, args);
  const r = spawnSync(cmd, argv, { env, input, encoding: 'utf8', timeout: 30000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Several MB of stdin that a byte-mangling relay would spoil: random bytes, NULs, CR/LF, and the
 * default detach keys (ctrl-p ctrl-q), which only a terminal may interpret.
 */
function awkwardInput(): Buffer {
  const parts = [Buffer.from([0x10, 0x11, 0, 0, 0x0d, 0x0a]), randomBytes(3 << 20), Buffer.from('\x10\x11end\x00\x10')];
  return Buffer.concat(parts);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('stdin arrives byte-exact, then EOF: run -i, exec -i, start -ai and attach', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const input = awkwardInput();
  const digest = sha256(input);
  for (const cli of CLIS) {
    await t.test(`${cli} run -i --rm`, () => {
      const r = runWithInput(d, cli, ['run', '-i', '--rm', 'busybox', 'sha256sum'], input);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split(/\s/)[0], digest);
    });
    await t.test(`${cli} run -i: a container that stops reading stdin still delivers its output`, () => {
      // conmon closes the attach socket with our stdin unread: its last output must not be lost.
      for (let i = 0; i < 5; i++) {
        const r = runWithInput(d, cli, ['run', '-i', '--rm', 'busybox', 'sh', '-c', 'head -c 10 > /dev/null; echo stopped reading'], input);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'stopped reading\n', `run ${i}`);
      }
    });
    await t.test(`${cli} exec -i`, () => {
      d.ok(['run', '-d', '--name', `ex-${cli}`, 'busybox', 'sleep', '300']);
      const r = runWithInput(d, cli, ['exec', '-i', `ex-${cli}`, 'sha256sum'], input);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split(/\s/)[0], digest);
      d.ok(['rm', '-f', `ex-${cli}`]);
    });
    await t.test(`${cli} start -ai attaches stdin to a created container`, () => {
      // -a stdin makes the CLI set StdinOnce: the container's stdin closes when the attach ends.
      d.ok(['create', '-i', '-a', 'stdin', '-a', 'stdout', '--name', `st-${cli}`, 'busybox', 'sha256sum']);
      const r = runWithInput(d, cli, ['start', '-ai', `st-${cli}`], input);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split(/\s/)[0], digest);
      d.ok(['rm', '-f', `st-${cli}`]);
    });
    await t.test(`${cli} attach with stdin to a running container`, async () => {
      const name = `at-${cli}`;
      d.ok(['create', '-i', '-a', 'stdin', '-a', 'stdout', '--name', name, 'busybox', 'sha256sum']);
      d.ok(['start', name]);
      const r = runWithInput(d, cli, ['attach', name], input);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split(/\s/)[0], digest);
      await waitFor(`${name} to exit`, () => d.ok(['inspect', '-f', '{{.State.Status}}', name]) === 'exited');
      d.ok(['rm', '-f', name]);
    });
  }
});

interface Hijacked { status: number; contentType: string; body: Buffer }

/**
 * POST with `Upgrade: tcp`, as the Go client and docker-py send attach and exec start; collects
 * what comes back until the daemon ends the stream. `whenUpgraded` runs once the 101 is in.
 */
function hijack(d: TestDaemon, path: string, o: { body?: object; whenUpgraded?: () => void; timeoutMs?: number } = {}): Promise<Hijacked> {
  return new Promise((resolve, reject) => {
    const payload = o.body ? JSON.stringify(o.body) : undefined;
    const req = request({
      socketPath: d.socket, method: 'POST', path, agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'tcp', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}) },
    });
    const timer = setTimeout(() => { req.destroy(); reject(new Error(`${path}: no end within ${o.timeoutMs ?? 20000} ms`)); }, o.timeoutMs ?? 20000);
    const collect = (status: number, contentType: string, first: Buffer, stream: NodeJS.ReadableStream) => {
      const chunks = [first];
      stream.on('data', (b: Buffer) => chunks.push(b));
      stream.on('end', () => { clearTimeout(timer); resolve({ status, contentType, body: Buffer.concat(chunks) }); });
    };
    req.on('upgrade', (res, socket, head) => {
      collect(res.statusCode ?? 0, String(res.headers['content-type'] ?? ''), head, socket);
      o.whenUpgraded?.();
    });
    req.on('response', (res) => collect(res.statusCode ?? 0, String(res.headers['content-type'] ?? ''), Buffer.alloc(0), res));
    req.on('error', (err) => { clearTimeout(timer); reject(err); });
    req.end(payload);
  });
}

/** Splits Docker's multiplexed framing into stdout and stderr text. */
function demux(b: Buffer): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  for (let i = 0; i + 8 <= b.length;) {
    const size = b.readUInt32BE(i + 4);
    const data = b.subarray(i + 8, i + 8 + size).toString();
    if (b[i] === 2) out.stderr += data; else out.stdout += data;
    i += 8 + size;
  }
  return out;
}

test('attach before start, logs replay, stream=0, and an attach racing the exit', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  await t.test('logs=1&stream=0 answers at once: empty for a created container, the log for an exited one (docker-py)', async () => {
    const id = d.ok(['create', 'busybox', 'sh', '-c', 'echo hello; echo oops >&2']);
    const fresh = await hijack(d, `/v1.41/containers/${id}/attach?logs=1&stream=0&stdout=1&stderr=1`, { timeoutMs: 5000 });
    assert.equal(fresh.status, 101);
    assert.equal(fresh.body.length, 0);
    d.ok(['start', id]);
    await waitFor('exit', () => d.ok(['inspect', '-f', '{{.State.Status}}', id]) === 'exited');
    const old = await hijack(d, `/v1.47/containers/${id}/attach?logs=1&stream=0&stdout=1&stderr=1`, { timeoutMs: 5000 });
    assert.equal(old.contentType, 'application/vnd.docker.multiplexed-stream');
    assert.deepEqual(demux(old.body), { stdout: 'hello\n', stderr: 'oops\n' });
    const onlyErr = await hijack(d, `/v1.47/containers/${id}/attach?logs=1&stderr=1`, { timeoutMs: 5000 });
    assert.deepEqual(demux(onlyErr.body), { stdout: '', stderr: 'oops\n' }, 'stream defaults to false, as in dockerd');
    d.ok(['rm', id]);
  });
  await t.test('an attach to a created container waits for the start and gets its output (compose run -T)', async () => {
    const id = d.ok(['create', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    const r = await hijack(d, `/v1.47/containers/${id}/attach?stream=1&stdout=1&stderr=1`, { whenUpgraded: () => d.ok(['start', id]) });
    assert.deepEqual(demux(r.body), { stdout: 'out\n', stderr: 'err\n' });
    d.ok(['rm', '-f', id]);
  });
  await t.test('an attach finding the monitor gone ends with that run instead of failing', async () => {
    // The window between the process's exit and berthd settling it, made wide: conmon's socket is gone.
    const id = d.ok(['run', '-d', 'busybox', 'sleep', '300']);
    const bundle = join(d.execRoot, 'containers', id);
    rmSync(join(bundle, 'attach'));
    const r = await hijack(d, `/v1.47/containers/${id}/attach?stream=1&stdout=1&stderr=1`, { whenUpgraded: () => d.ok(['kill', id]) });
    assert.equal(r.status, 101, r.body.toString());
    d.ok(['rm', '-f', id]);
  });
  await t.test('attach to a paused container is refused as dockerd does', async () => {
    d.ok(['run', '-d', '--name', 'pz', 'busybox', 'sleep', '300']);
    d.ok(['pause', 'pz']);
    const r = await hijack(d, '/v1.47/containers/pz/attach?stream=1&stdout=1', { timeoutMs: 5000 });
    assert.equal(r.status, 409);
    assert.match(r.body.toString(), /container pz is paused, unpause the container before attach/);
    d.ok(['rm', '-f', 'pz']);
  });
});

/** Creates an exec through the API and returns its id. */
async function execCreate(d: TestDaemon, container: string, body: object): Promise<string> {
  const r = await apiRequest(d.socket, 'POST', `/v1.47/containers/${container}/exec`, body);
  assert.equal(r.status, 201, r.body);
  return (r.json() as { Id: string }).Id;
}

test('exec with a terminal: TERM, the create request decides the terminal, detached start', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  d.ok(['run', '-d', '--name', 'tx', 'busybox', 'sleep', '300']);
  d.ok(['run', '-d', '--runtime', 'runc', '--name', 'txr', 'busybox', 'sleep', '300']);
  await t.test('TERM=xterm with a tty unless the user gives TERM, none without (both CLIs, crun and runc)', () => {
    for (const cli of CLIS) for (const c of ['tx', 'txr']) {
      const run = (args: string[]) => cli === 'berth' ? d.berth(args) : d.docker(args);
      const tty = run(['exec', '-t', c, 'sh', '-c', 'echo "[$TERM]"; tty; exit 4']);
      assert.equal(tty.code, 4, `${cli} ${c}: ${tty.stderr}${tty.stdout}`);
      assert.match(tty.stdout, /^\[xterm\]\r\n\/dev\/pts\/\d+\r\n$/, `${cli} ${c}`);
      assert.equal(run(['exec', '-t', '-e', 'TERM=vt100', c, 'sh', '-c', 'echo "[$TERM]"']).stdout, '[vt100]\r\n', `${cli} ${c}`);
      assert.equal(run(['exec', c, 'sh', '-c', 'echo "[$TERM]"']).stdout, '[]\n', `${cli} ${c}`);
    }
  });
  await t.test('Tty at create without stdin still gets a terminal, whatever the start says (docker-py)', async () => {
    for (const startTty of [false, true]) {
      const id = await execCreate(d, 'tx', { Cmd: ['sh', '-c', 'echo one; tty'], Tty: true, AttachStdout: true, AttachStderr: true });
      const r = await hijack(d, `/v1.47/exec/${id}/start`, { body: { Detach: false, Tty: startTty } });
      assert.equal(r.status, 101);
      // The start's Tty only picks the stream's form: frames without it, raw bytes with it.
      const text = startTty ? r.body.toString() : demux(r.body).stdout;
      assert.equal(r.contentType, startTty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
      assert.match(text, /^one\r\n\/dev\/pts\/\d+\r\n$/, `start Tty ${startTty}`);
    }
  });
  await t.test('a detached start answers 200 with no body and the process runs', async () => {
    const id = await execCreate(d, 'tx', { Cmd: ['sh', '-c', 'echo ran > /detached'], Tty: true });
    const r = await apiRequest(d.socket, 'POST', `/v1.47/exec/${id}/start`, { Detach: true, Tty: true });
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    await waitFor('the detached exec to run', () => d.berth(['exec', 'tx', 'cat', '/detached']).stdout === 'ran\n');
  });
  d.ok(['rm', '-f', 'tx', 'txr']);
});

test('a command that cannot run: Docker\'s words and exit codes, never the runtime\'s lines (crun and runc)', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  // eslint-disable-next-line no-control-regex -- crun's colour codes are what must not show
  const rawRuntimeLine = /\x1b\[|level=error|"msg"|^\d{4}-\d\d-\d\dT/m;
  for (const runtime of ['crun', 'runc']) {
    const c = `nb-${runtime}`;
    d.ok(['run', '-d', '--runtime', runtime, '--name', c, 'busybox', 'sleep', '300']);
    for (const cli of CLIS) {
      const run = (args: string[]) => cli === 'berth' ? d.berth(args) : d.docker(args);
      await t.test(`${cli} exec on ${runtime}: missing binary and a file without x, with and without a tty`, () => {
        for (const tty of [[], ['-t']]) {
          const missing = run(['exec', ...tty, c, 'bash']);
          assert.equal(missing.code, 126, `${missing.stdout}${missing.stderr}`);
          assert.equal(missing.stdout, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "bash": executable file not found in $PATH: unknown\r\n');
          assert.doesNotMatch(missing.stdout + missing.stderr, rawRuntimeLine);
          const noX = run(['exec', ...tty, c, '/etc/passwd']);
          assert.equal(noX.code, 126);
          assert.equal(noX.stdout, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc/passwd": permission denied: unknown\r\n');
        }
        // The process's own stderr is still its own.
        const own = run(['exec', c, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
        assert.deepEqual([own.code, own.stdout, own.stderr], [3, 'out\n', 'err\n']);
      });
      await t.test(`${cli} run on ${runtime}: 127 not found, 126 not executable`, () => {
        const missing = run(['run', '--rm', '--runtime', runtime, 'busybox', 'bash']);
        assert.equal(missing.code, 127, missing.stderr);
        assert.equal(missing.stderr, `${cli}: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "bash": executable file not found in $PATH: unknown\n\nRun '${cli} run --help' for more information\n`);
        const noX = run(['run', '--rm', '--runtime', runtime, 'busybox', '/etc/passwd']);
        assert.equal(noX.code, 126, noX.stderr);
        assert.match(noX.stderr, /unable to start container process: exec: "\/etc\/passwd": permission denied: unknown/);
        assert.doesNotMatch(missing.stderr + noX.stderr, rawRuntimeLine);
      });
    }
    await t.test(`${runtime}: a container that failed to start records dockerd's exit code and words`, () => {
      const id = d.ok(['create', '--runtime', runtime, 'busybox', 'bash']);
      assert.notEqual(d.berth(['start', id]).code, 0);
      assert.equal(d.ok(['inspect', '-f', '{{.State.ExitCode}}', id]), '127');
      assert.match(d.ok(['inspect', '-f', '{{.State.Error}}', id]), /^failed to create task for container: .*exec: "bash": executable file not found in \$PATH: unknown$/);
      d.ok(['rm', id]);
    });
    d.ok(['rm', '-f', c]);
  }
});

/**
 * A CLI under a real pseudo-terminal (util-linux `script`), driven by what the screen shows rather
 * than by fixed delays: waitFor polls the output with a deadline, type writes keys.
 */
class PtySession {
  screen = '';
  readonly exited: Promise<number>;
  readonly #proc: ReturnType<typeof spawn>;

  constructor(d: TestDaemon, cli: Cli, args: string[], env: NodeJS.ProcessEnv = {}) {
    const { cmd, argv, env: base } = cliCommand(d, cli, args);
    const line = [cmd, ...argv].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    this.#proc = spawn('script', ['-qfec', `stty rows 30 cols 100; ${line}`, '/dev/null'], { env: { ...base, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#proc.stdout!.on('data', (b: Buffer) => { this.screen += b.toString(); });
    this.#proc.stderr!.on('data', (b: Buffer) => { this.screen += b.toString(); });
    this.exited = new Promise((resolve) => this.#proc.on('close', (code) => resolve(code ?? -1)));
  }

  async waitFor(re: RegExp, what: string): Promise<void> {
    try {
      await waitFor(what, () => re.test(this.screen));
    } catch (err) {
      throw new Error(`${(err as Error).message} (screen: ${JSON.stringify(this.screen.slice(-300))})`);
    }
  }

  type(text: string): void { this.#proc.stdin!.write(text); }

  /** Exit status, or a failure if it does not come. */
  async exit(): Promise<number> {
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), 20000);
    try { return await this.exited; } finally { clearTimeout(timer); }
  }
}

test('a terminal client: no TTY refused, detach keys (flag and config.json), what a detach prints', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  d.ok(['run', '-dit', '--name', 'term', 'busybox', 'sh']);
  await t.test('run -it, exec -it and attach without a terminal: refused before anything is created', () => {
    for (const cli of CLIS) {
      const before = d.ok(['ps', '-aq']);
      for (const args of [['run', '-it', '--rm', 'busybox', 'true'], ['exec', '-it', 'term', 'true'], ['attach', 'term']]) {
        const r = runWithInput(d, cli, args, Buffer.alloc(0));
        assert.deepEqual([r.code, r.stderr], [1, 'the input device is not a TTY\n'], `${cli} ${args.join(' ')}`);
      }
      assert.equal(d.ok(['ps', '-aq']), before, `${cli}: nothing was created`);
    }
  });
  for (const cli of CLIS) {
    await t.test(`${cli}: run -it detaches quietly; attach and exec -it say "read escape sequence" and exit 1`, async () => {
      const name = `det-${cli}`;
      const run = new PtySession(d, cli, ['run', '-it', '--name', name, 'busybox', 'sh']);
      await run.waitFor(/\/ # /, 'the shell prompt');
      run.type('echo "[$TERM]"\r');
      await run.waitFor(/\[xterm\]/, 'TERM');
      run.type('\x10\x11');
      assert.equal(await run.exit(), 0, run.screen);
      assert.doesNotMatch(run.screen, /read escape sequence/);
      assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', name]), 'running');

      const att = new PtySession(d, cli, ['attach', name]);
      att.type('echo back-$((1+1))\r');
      await att.waitFor(/back-2/, 'the shell to answer');
      att.type('\x10\x11');
      assert.equal(await att.exit(), 1, att.screen);
      assert.match(att.screen, /read escape sequence/);

      const ex = new PtySession(d, cli, ['exec', '-it', name, 'sh']);
      await ex.waitFor(/\/ # /, 'the exec shell prompt');
      ex.type('\x10\x11');
      assert.equal(await ex.exit(), 1, ex.screen);
      assert.match(ex.screen, /read escape sequence/);
      d.ok(['rm', '-f', name]);
    });
    await t.test(`${cli}: detachKeys from config.json are honoured by run -it, attach and exec -it`, async () => {
      const configDir = join(d.dir, `cfg-${cli}`);
      mkdirSync(configDir, { recursive: true });
      writeFileSync(join(configDir, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-x,x' }));
      const env = { DOCKER_CONFIG: configDir };
      const name = `cfg-${cli}`;
      const run = new PtySession(d, cli, ['run', '-it', '--name', name, 'busybox', 'sh'], env);
      await run.waitFor(/\/ # /, 'the shell prompt');
      // The default keys are only data now: the shell gets them, nothing detaches.
      run.type('\x10\x11echo still-$((2+3))\r');
      await run.waitFor(/still-5/, 'the shell after ctrl-p ctrl-q');
      run.type('\x18x');
      assert.equal(await run.exit(), 0, run.screen);
      assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', name]), 'running');
      for (const args of [['attach', name], ['exec', '-it', name, 'sh']]) {
        const s = new PtySession(d, cli, args, env);
        s.type('echo in-$((3+4))\r');
        await s.waitFor(/in-7/, `${args[0]} to answer`);
        s.type('\x18x');
        assert.equal(await s.exit(), 1, s.screen);
        assert.match(s.screen, /read escape sequence/);
      }
      d.ok(['rm', '-f', name]);
    });
  }
  d.ok(['rm', '-f', 'term']);
});
