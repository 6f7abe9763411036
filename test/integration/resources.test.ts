// Resource limits checked where they take effect: the container's cgroup files (v1 on the dev
// machine, v2 elsewhere), the kernel's OOM killer and pids controller, and what the real docker
// CLI renders from berthd's stats and update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cgroupPathsFor, cgroupV1Files, cgroupV2Files, detectCgroups, type CgroupLayout } from '../../src/runtime/cgroups/index.ts';
import { toOciResources } from '../../src/runtime/spec/resources.ts';
import type { StatsResponse } from '../../src/api/types/index.ts';
import { daemonFor, requireRoot, waitFor, type TestDaemon } from './harness.ts';
import { apiRequest } from './api-request.ts';

const MB = 1024 * 1024;
const layout: CgroupLayout = detectCgroups(readFileSync('/proc/self/mountinfo', 'utf8'));
const v2 = !layout.v1Controllers.has('memory');

/** A cgroup file of a container (`memory/memory.limit_in_bytes` on v1, `memory.max` on v2). */
function cgFile(d: TestDaemon, id: string, file: string, parent = `/${d.prefix}`): string {
  const path = v2 ? join(layout.unifiedMount!, parent, id, file) : join(layout.v1Controllers.get(file.split('/')[0]!)!, parent, id, file.split('/')[1]!);
  return readFileSync(path, 'utf8').trim();
}

/** Every file the runtime should have written for these HostConfig resources has that content. */
function assertLimits(d: TestDaemon, id: string, expected: Record<string, string>): void {
  for (const [file, value] of Object.entries(expected)) {
    const actual = cgFile(d, id, file);
    if (file === 'io.max') {
      for (const kv of value.split(/\s+/).slice(1)) assert.ok(actual.includes(kv), `${file}: ${actual} lacks ${kv}`);
    } else assert.equal(actual, value, file);
  }
}

const rootDevice = (): string => {
  const src = spawnSync('findmnt', ['-no', 'SOURCE', '/'], { encoding: 'utf8' }).stdout.trim();
  return src.startsWith('/dev/') && existsSync(src) && statSync(src).isBlockDevice() ? src : '';
};

for (const runtime of ['crun', 'runc'] as const) {
  test(`${runtime}: resource limits, update and stats`, async (t) => {
    if (!requireRoot(t)) return;
    const d = await daemonFor(t, { runtime });

    await t.test('run flags reach HostConfig and the cgroup files', () => {
      const dev = rootDevice();
      const id = d.ok(['run', '-d', '-m', '64m', '--memory-reservation', '32m', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0',
        '--pids-limit', '30', ...(dev ? ['--device-read-bps', `${dev}:1mb`, '--device-write-iops', `${dev}:100`] : []), 'busybox', 'sleep', '300']);
      const hc = JSON.parse(d.ok(['inspect', '-f', '{{json .HostConfig}}', id])) as Record<string, unknown>;
      assert.equal(hc['Memory'], 64 * MB);
      assert.equal(hc['MemorySwap'], 128 * MB, 'dockerd stores the default swap, twice the memory');
      assert.equal(hc['NanoCpus'], 5e8);
      assert.equal(hc['PidsLimit'], 30);
      const st = statSync(dev || '/dev/null');
      const devNum = { major: Number(BigInt(st.rdev) >> 8n & 0xfffn), minor: Number(BigInt(st.rdev) & 0xffn) };
      const res = toOciResources({ Memory: 64 * MB, MemoryReservation: 32 * MB, NanoCpus: 5e8, CpuShares: 512, CpusetCpus: '0', PidsLimit: 30 },
        dev ? { readBps: [{ ...devNum, rate: MB }], writeIOps: [{ ...devNum, rate: 100 }] } : {});
      assertLimits(d, id, v2 ? cgroupV2Files(res) : cgroupV1Files(res));
      // Inside: the cpuset is what the scheduler allows.
      assert.match(d.ok(['exec', id, 'grep', 'Cpus_allowed_list', '/proc/self/status']), /Cpus_allowed_list:\s+0$/);
      d.ok(['rm', '-f', id]);
    });

    await t.test('a process allocating beyond -m is OOM-killed: exit 137, State.OOMKilled', () => {
      const r = d.berth(['run', '--name', 'oomer', '-m', '8m', '--memory-swap', '8m', 'busybox', 'sh', '-c', 'x=a; while true; do x=$x$x; done']);
      assert.equal(r.code, 137, r.stderr);
      assert.equal(d.ok(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'oomer']), 'true 137');
      assert.equal(d.docker(['inspect', '-f', '{{.State.OOMKilled}}', 'oomer']).stdout.trim(), 'true');
      d.ok(['rm', 'oomer']);
    });

    await t.test('--pids-limit stops a fork bomb', async () => {
      const id = d.ok(['run', '-d', '--pids-limit', '10', 'busybox', 'sleep', '300']);
      const bomb = d.berth(['exec', id, 'sh', '-c', 'i=0; while [ $i -lt 40 ]; do sleep 300 & i=$((i+1)); done']);
      assert.notEqual(bomb.code, 0);
      assert.match(bomb.stderr, /can't fork/);
      // At the limit while the bomb ran; its own shell has gone since.
      assert.ok(['9', '10'].includes(cgFile(d, id, v2 ? 'pids.current' : 'pids/pids.current')));
      d.ok(['rm', '-f', id]);
    });

    await t.test('update changes a running container through the runtime, and stores it', () => {
      const id = d.ok(['run', '-d', '--name', 'upd', '-m', '64m', '--pids-limit', '20', 'busybox', 'sleep', '300']);
      assert.equal(d.ok(['update', '-m', '96m', '--memory-swap', '192m', '--cpus', '1.5', '--pids-limit', '40', '--cpu-shares', '256', '--restart', 'on-failure:2', 'upd']), 'upd');
      const res = toOciResources({ Memory: 96 * MB, MemorySwap: 192 * MB, NanoCpus: 1.5e9, CpuShares: 256, PidsLimit: 40 });
      assertLimits(d, id, v2 ? cgroupV2Files(res) : cgroupV1Files(res));
      assert.equal(d.ok(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'upd']),
        `${96 * MB} ${192 * MB} 1500000000 40 on-failure:2`);
      // -1 lifts the limit (crun 1.8 cannot write it: berthd does).
      d.ok(['update', '--pids-limit', '-1', 'upd']);
      assert.equal(cgFile(d, id, v2 ? 'pids.max' : 'pids/pids.max'), 'max');
      // The real docker CLI: prints the name, and the daemon's errors.
      const viaDocker = d.docker(['update', '--cpu-shares', '768', 'upd']);
      assert.equal(viaDocker.stdout.trim(), 'upd', viaDocker.stderr);
      assert.equal(cgFile(d, id, v2 ? 'cpu.weight' : 'cpu/cpu.shares'), v2 ? '29' : '768');
      const bad = d.docker(['update', '-m', '400m', 'upd']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /Error response from daemon: Cannot update container [0-9a-f]{64}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
      const conflict = d.berth(['update', '--cpu-period', '50000', 'upd']);
      assert.equal(conflict.code, 1);
      assert.match(conflict.stderr, /Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set/);
      const small = d.berth(['update', '-m', '4m', 'upd']);
      assert.equal(small.stderr.trim(), 'Error response from daemon: Minimum memory limit allowed is 6MB');
      assert.equal(d.berth(['update', 'upd']).stderr.trim(), 'you must provide one or more flags when using this command');
      assert.equal(cgFile(d, id, v2 ? 'memory.max' : 'memory/memory.limit_in_bytes'), String(96 * MB), 'refused updates change nothing');
      d.ok(['rm', '-f', 'upd']);
    });

    await t.test('update of a stopped container is stored and applied at the next start', () => {
      const id = d.ok(['create', '--name', 'cold', 'busybox', 'sleep', '300']);
      assert.equal(d.ok(['update', '--memory', '48m', '--memory-swap', '96m', '--cpuset-cpus', '0', 'cold']), 'cold');
      d.ok(['start', 'cold']);
      assert.equal(cgFile(d, id, v2 ? 'memory.max' : 'memory/memory.limit_in_bytes'), String(48 * MB));
      assert.equal(cgFile(d, id, v2 ? 'cpuset.cpus' : 'cpuset/cpuset.cpus'), '0');
      d.ok(['rm', '-f', 'cold']);
    });

    await t.test('stats: Docker JSON from the cgroup, a meaningful CPU %, docker stats renders it', async () => {
      // A quota of 10% of a CPU: the busy loop reaches it (and is throttled) however loaded this
      // machine is, and the CPU % it shows is bounded by it.
      const busy = d.ok(['run', '-d', '--name', 'busy', '--cpus', '0.1', '-m', '32m', 'busybox', 'sh', '-c', 'while true; do :; done']);
      const idle = d.ok(['run', '-d', '--name', 'idle', 'busybox', 'sleep', '300']);
      const api = (path: string) => spawnSync('curl', ['-s', '--unix-socket', d.socket, `http://x/v1.47${path}`], { encoding: 'utf8', timeout: 10000 }).stdout;
      const cpuPercent = (st: StatsResponse) => ((st.cpu_stats.cpu_usage.total_usage - st.precpu_stats.cpu_usage.total_usage)
        / (st.cpu_stats.system_cpu_usage! - st.precpu_stats.system_cpu_usage!)) * st.cpu_stats.online_cpus! * 100;
      // Read until the loop has used some CPU since the previous read and has been throttled.
      const s = await waitFor('a stats read showing the busy loop at work', () => {
        const st = JSON.parse(api('/containers/busy/stats?stream=false')) as StatsResponse;
        return cpuPercent(st) > 0 && st.cpu_stats.throttling_data.throttled_periods > 0 ? st : undefined;
      });
      for (const k of ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats', 'name', 'id', 'networks']) {
        assert.ok(k in s, `stats lacks ${k}`);
      }
      assert.equal(s.name, '/busy');
      assert.equal(s.id, busy);
      assert.equal(s.memory_stats.limit, 32 * MB);
      const eth0 = s.networks?.['eth0'];
      assert.ok(eth0 && eth0.rx_bytes >= 0 && 'tx_dropped' in eth0);
      assert.ok(s.cpu_stats.system_cpu_usage! > s.precpu_stats.system_cpu_usage!, 'precpu comes from an earlier read');
      const pct = cpuPercent(s);
      assert.ok(pct > 0 && pct <= 15, `--cpus 0.1 busy loop at ${pct}%`);
      // one-shot: a single read, no baseline.
      const one = JSON.parse(api('/containers/idle/stats?stream=false&one-shot=true')) as StatsResponse;
      assert.equal(one.precpu_stats.cpu_usage.total_usage, 0);
      assert.match(api('/containers/idle/stats?stream=true&one-shot=true'), /cannot have stream=true and one-shot=true/);
      // stream: frame after frame (the first two are taken, then the stream is dropped).
      const streamed = spawnSync('sh', ['-c', `curl -sN --unix-socket ${d.socket} http://x/v1.47/containers/idle/stats | head -n 2`], { encoding: 'utf8', timeout: 60000 }).stdout;
      assert.equal(streamed.trim().split('\n').length, 2, `frames: ${streamed.slice(0, 200)}`);
      for (const frame of streamed.trim().split('\n')) assert.equal((JSON.parse(frame) as StatsResponse).name, '/idle');

      // docker's own sampling: until its window saw the loop run.
      const lines = await waitFor('docker stats showing the busy loop at work', () => {
        const table = d.docker(['stats', '--no-stream']);
        assert.equal(table.code, 0, table.stderr);
        const rows = table.stdout.trim().split('\n');
        return Number(/ busy\s+([\d.]+)%/.exec(rows.find((l) => l.includes(' busy ')) ?? '')?.[1] ?? 0) > 0 ? rows : undefined;
      });
      assert.match(lines[0]!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
      const busyRow = lines.find((l) => l.includes(' busy '))!;
      assert.match(busyRow, new RegExp(`^${busy.slice(0, 12)}\\s+busy\\s+(\\d+\\.\\d\\d)%\\s+[\\d.]+[KMG]?i?B / 32MiB\\s+[\\d.]+%\\s+\\S+ / \\S+\\s+\\S+ / \\S+\\s+1$`));
      const dockerPct = Number(/busy\s+([\d.]+)%/.exec(busyRow)![1]);
      assert.ok(dockerPct > 0 && dockerPct <= 15, busyRow);
      assert.ok(lines.some((l) => l.startsWith(idle.slice(0, 12))));

      const ours = d.ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}', 'busy', 'idle']).split('\n');
      assert.match(ours[0]!, /^busy 1 [\d.]+[KM]iB \/ 32MiB$/);
      assert.match(ours[1]!, /^idle 1 /);
      assert.match(d.ok(['stats', '--no-stream', '--no-trunc', 'busy']), new RegExp(busy));
      const missing = d.berth(['stats', '--no-stream', 'nosuch']);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr.trim(), 'Error response from daemon: No such container: nosuch');
      d.ok(['stop', '-t', '0', 'idle']);
      const stopped = JSON.parse(api('/containers/idle/stats?stream=false')) as StatsResponse;
      assert.equal(stopped.read, '0001-01-01T00:00:00Z');
      assert.equal(d.docker(['stats', '--no-stream', '-a', '--format', '{{.Name}} {{.CPUPerc}}']).stdout.includes('idle 0.00%'), true);
      d.ok(['rm', '-f', 'busy', 'idle']);
    });
  });
}

test('resource validation: docker wording, nothing created; info; --cgroup-parent; --device', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const before = d.ok(['ps', '-aq']);
  const ncpu = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim());
  const cases: [string[], string][] = [
    [['-m', '4m'], 'Minimum memory limit allowed is 6MB'],
    [['-m', '64m', '--memory-reservation', '128m'], 'Minimum memory limit can not be less than memory reservation limit, see usage'],
    [['--memory-swappiness', '101'], 'invalid value: 101. Valid memory swappiness range is 0-100'], // docker CLI 28 checks it first
    [['--cpus', String(ncpu + 1)], `range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`],
    [['--cpus', '0.5', '--cpu-period', '50000'], 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
    [['--cpu-quota', '500'], 'CPU cfs quota can not be less than 1ms (i.e. 1000)'],
    [['--cpuset-cpus', '0-99'], `Requested CPUs are not available - requested 0-99, available: ${readFileSync(v2 ? '/sys/fs/cgroup/cpuset.cpus.effective' : '/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim()}`],
    [['--oom-score-adj', '1001'], 'Invalid value 1001, range for oom score adj is [-1000, 1000]'],
  ];
  for (const [flags, message] of cases) {
    const r = d.berth(['run', '--rm', ...flags, 'busybox', 'true']);
    assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(message), `${flags.join(' ')}: ${r.stderr}`);
    const viaDocker = d.docker(['create', ...flags, 'busybox', 'true']);
    assert.ok(viaDocker.stderr.includes(message), `docker ${flags.join(' ')}: ${viaDocker.stderr}`);
  }
  assert.match(d.berth(['run', '--rm', '--blkio-weight-device', '/dev/vda:5', 'busybox', 'true']).stderr, /invalid argument "\/dev\/vda:5" for "--blkio-weight-device" flag: invalid weight for device: \/dev\/vda:5/);
  assert.match(d.berth(['run', '--rm', '--cgroupns', 'bogus', 'busybox', 'true']).stderr, /--cgroupns: invalid CGROUP mode/);
  assert.equal(d.ok(['ps', '-aq']), before, 'refused runs leave no container');

  // --kernel-memory is accepted and has no effect: from API 1.42 dockerd's router drops the field
  // before anything reads it (no warning); below 1.42 the daemon discards it with a warning.
  const km = d.berth(['run', '--rm', '--kernel-memory', '50m', 'busybox', 'true']);
  assert.equal(km.code, 0);
  assert.doesNotMatch(km.stderr, /kernel memory/);
  const kmOld = await apiRequest(d.socket, 'POST', '/v1.41/containers/create', { Image: 'busybox', HostConfig: { KernelMemory: 50 * 1024 * 1024 } });
  assert.equal(kmOld.status, 201, kmOld.body);
  assert.deepEqual((kmOld.json() as { Warnings: string[] }).Warnings, ['Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.']);
  d.ok(['rm', (kmOld.json() as { Id: string }).Id]);

  // info names the cgroup version and driver.
  assert.equal(d.docker(['info', '--format', '{{.CgroupVersion}} {{.CgroupDriver}}']).stdout.trim(), `${v2 ? 2 : 1} cgroupfs`);
  assert.match(d.ok(['info']), new RegExp(`Cgroup Driver: cgroupfs\\n\\s*Cgroup Version: ${v2 ? 2 : 1}`));

  // --cgroup-parent: the container's cgroup is under it, and goes with the container.
  const parent = `${d.prefix}-parent`;
  t.after(() => { for (const p of cgroupPathsFor(`/${parent}`, layout)) { try { rmdirSync(p); } catch { /* gone */ } } });
  const id = d.ok(['run', '-d', '--cgroup-parent', parent, '-m', '32m', 'busybox', 'sleep', '300']);
  assert.equal(cgFile(d, id, v2 ? 'memory.max' : 'memory/memory.limit_in_bytes', `/${parent}`), String(32 * MB));
  assert.match(d.ok(['exec', id, 'cat', '/proc/self/cgroup']), /memory:\/$|0::\/$/m);
  d.ok(['rm', '-f', id]);
  for (const p of cgroupPathsFor(`/${parent}/${id}`, layout)) assert.ok(!existsSync(p), `${p} left behind`);

  // --device and --device-cgroup-rule.
  const fuse = d.ok(['run', '--rm', '--device', '/dev/fuse:/dev/myfuse:rw', 'busybox', 'sh', '-c', 'ls -l /dev/myfuse && head -c0 /dev/myfuse 2>&1; echo rc=$?']);
  assert.match(fuse, /^crw.* 10,\s+229 .*\/dev\/myfuse/m);
  const rule = d.ok(['run', '--rm', '--device-cgroup-rule', 'c 10:229 rw', '--cap-add', 'MKNOD', 'busybox', 'sh', '-c', 'mknod /tmp/f c 10 229 && cat /tmp/f 2>&1 | head -1; echo done']);
  assert.doesNotMatch(rule, /can't open/, 'the rule lets it open the node (fuse itself then refuses the read)');
  const denied = d.ok(['run', '--rm', 'busybox', 'sh', '-c', 'mknod /tmp/f c 10 229 && cat /tmp/f 2>&1 | head -1; echo done']);
  assert.match(denied, /can't open '\/tmp\/f': Operation not permitted/);
  assert.match(d.berth(['run', '--rm', '--device', '/dev/nosuchdev', 'busybox', 'true']).stderr, /error gathering device information while adding custom device "\/dev\/nosuchdev": no such file or directory/);
});
