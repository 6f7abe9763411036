// Makes dist/berth-cli.cjs.cache, the V8 code cache dist/berth.cjs runs the CLI from (see
// scripts/cli-launcher.cjs). A trainer process compiles the bundle exactly as the launcher does,
// runs the quick commands once against a stand-in daemon on a temp socket (so the functions
// they use are compiled), then saves the code cache. The trainer runs plain `node` with no
// flags: V8 accepts a cache only under the flags it was made with.
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ID = 'f'.repeat(64);
const IMAGE = `sha256:${'e'.repeat(64)}`;
/** Canned answers, enough for the commands below to run their normal path. */
const ANSWERS = {
  'GET /version': { Version: '0.1.0', ApiVersion: '1.47', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', KernelVersion: '6', GoVersion: 'node', GitCommit: '', BuildTime: '', Components: [{ Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.47' } }], Platform: { Name: 'Berth Engine' } },
  'GET /containers/json': [{ Id: ID, Names: ['/web'], Image: 'busybox', ImageID: IMAGE, Command: 'sleep 600', Created: 1700000000, Ports: [{ PrivatePort: 80, Type: 'tcp' }], Labels: { a: 'b' }, State: 'running', Status: 'Up 2 minutes', HostConfig: { NetworkMode: 'bridge' }, NetworkSettings: { Networks: { bridge: {} } }, Mounts: [] }],
  'GET /images/json': [{ Id: IMAGE, ParentId: '', RepoTags: ['busybox:latest'], RepoDigests: [], Created: 1700000000, Size: 1982903, SharedSize: -1, Labels: {}, Containers: -1 }],
  [`GET /containers/${ID}/json`]: { Id: ID, Name: '/web', Created: '2024-01-01T00:00:00Z', State: { Status: 'running', Running: true }, Config: { Image: 'busybox' }, HostConfig: {}, NetworkSettings: { Networks: {} } },
};
/** Any other request: a body with the fields the rest of the commands below read. */
const GENERIC = { Id: ID, Warnings: [], StatusCode: 0, ExitCode: 0, Running: false };
const COMMANDS = [
  ['--version'], ['--help'], ['version'], ['ps', '-a'], ['ps', '-q'], ['images'], ['inspect', ID], ['inspect', '-f', '{{.Name}}', ID],
  ['run', '--rm', 'busybox', 'true'], ['run', '-d', 'busybox', 'true'], ['exec', ID, 'true'], ['start', ID], ['stop', ID], ['rm', '-f', ID],
  ['ps', '--help'], ['rm'], ['network'],
];

/** Writes the cache for the launcher in `dist` (a directory holding berth.cjs and berth-cli.cjs). */
export async function buildCliCodeCache(distDir) {
  const dist = resolve(distDir);
  const dir = mkdtempSync(join(tmpdir(), 'berth-cache-'));
  const socket = join(dir, 'api.sock');
  const server = createServer((req, res) => {
    const path = req.url.replace(/^\/v[\d.]+/, '').split('?')[0];
    const body = ANSWERS[`${req.method} ${path}`] ?? (/^\/(containers|images)\/\w+\/json$/.test(path) ? undefined : GENERIC);
    res.writeHead(body === undefined ? 404 : 200, { 'Content-Type': 'application/json', 'Api-Version': '1.47' });
    res.end(JSON.stringify(body ?? { message: `No such object: ${path}` }));
  });
  // attach and exec start: the stream upgrade, then nothing to relay.
  server.on('upgrade', (_req, sock) => sock.end('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n'));
  await new Promise((resolve) => server.listen(socket, resolve));
  try {
    const trainer = `
      const { renameSync, writeFileSync } = require('node:fs');
      const launcher = require(${JSON.stringify(join(dist, 'berth.cjs'))});
      const { cli, script } = launcher.load();
      (async () => {
        for (const argv of ${JSON.stringify(COMMANDS)}) await cli.main(argv);
        writeFileSync(launcher.CACHE + '.tmp', script.createCachedData());
      })().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });`;
    const env = { ...process.env, BERTH_HOST: `unix://${socket}`, DOCKER_CONFIG: dir };
    delete env.NODE_OPTIONS;
    let stderr = '';
    const code = await new Promise((resolve, reject) => {
      const p = spawn(process.execPath, ['-e', trainer], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      p.stderr.on('data', (b) => { stderr += b; });
      p.on('error', reject);
      p.on('exit', resolve);
    });
    if (code !== 0) throw new Error(`the CLI code cache trainer exited ${code}: ${stderr}`);
    renameSync(join(dist, 'berth-cli.cjs.cache.tmp'), join(dist, 'berth-cli.cjs.cache'));
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
