import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { loadSpawnLib, posixSpawn, posixSpawnSync } from '../../src/os/posix-spawn.ts';
import { readStat } from '../../src/proc/stat.ts';
import { takeSnapshot } from '../../src/proc/snapshot.ts';
import { waitExit } from '../../src/jobs/leader-exit.ts';
import { NativeChild, watchNativeChild } from '../../src/supervise/native-child.ts';
import { reapAdopted } from '../../src/supervise/reaper.ts';
import { NODE_SPAWN_VAR, shareTerminalWith, spawnJob } from '../../src/supervise/spawn-job.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

// A pool's tasks (stdin /dev/null, stdout and stderr piped) start through glibc's posix_spawn on a worker
// thread instead of Node's fork-based spawn; these tests hold it to what Node's spawn gives a detached child.

const trackers: Tracker[] = [];
afterEach(async () => {
  for (const t of trackers.splice(0)) assert.deepEqual(await t.cleanup(), [], 'nothing the test started was left');
});

const POOL_STDIO = ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'];

async function readAll(s: NodeJS.ReadableStream | null): Promise<string> {
  let out = '';
  for await (const chunk of s as AsyncIterable<Buffer>) out += chunk.toString();
  return out;
}

test('a task starts through posix_spawn in a session of its own, with default signals, /dev/null on stdin, its pipes, markers and directory', async () => {
  const t = new Tracker();
  trackers.push(t);
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'corral-native-')));
  try {
    // Node itself ignores SIGPIPE: the child must not inherit that (libuv resets every disposition too).
    // The masks are grep's own (/proc/self), which it has from the leader through fork and exec: dash blocks
    // every signal for a moment around each fork, so reading the leader's /proc/$$/status from a child
    // could catch that moment (it did, 1 run in 15 under load).
    const script = 'echo "stat=$(cut -d" " -f1,5,6 /proc/$$/stat)"; grep -E "^Sig(Ign|Blk)" /proc/self/status; echo "in=$(readlink /proc/$$/fd/0)"; echo "cwd=$(pwd)"; echo "job=$CORRAL_JOB_ID"; echo oops >&2; exit 3';
    const { child, leader } = await spawnJob({ argv: ['sh', '-c', script], runId: 'r-native', jobId: 'r-native.task.1', cwd: dir, stdio: POOL_STDIO });
    t.pid(leader.pid);
    assert.ok(child instanceof NativeChild, 'the pool stdio goes through posix_spawn');
    const exited = waitExit(child);
    const [out, err] = await Promise.all([readAll(child.stdout), readAll(child.stderr)]);
    assert.deepEqual(await exited, { code: 3, signal: null });
    assert.match(out, new RegExp(`^stat=${leader.pid} ${leader.pid} ${leader.pid}$`, 'm'), 'leader of its own process group and session');
    // none ignored but glibc's two reserved signals (32, 33: SIGRTMIN is 34 in any glibc program), which
    // glibc's posix_spawn leaves ignored in the child
    const ignored = BigInt(`0x${/^SigIgn:\s+([0-9a-f]+)$/m.exec(out)?.[1]}`);
    assert.equal(ignored & ~0x180000000n, 0n, `ignored signals: ${ignored.toString(16)}`);
    assert.match(out, /^SigBlk:\s+0+$/m);
    assert.match(out, /^in=\/dev\/null$/m);
    assert.match(out, new RegExp(`^cwd=${dir}$`, 'm'));
    assert.match(out, /^job=r-native\.task\.1$/m);
    assert.equal(err, 'oops\n');
    await waitFor(() => readStat(leader.pid) === null, 'the task to be reaped, not left a zombie', 5000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a task killed by a signal reports the signal; a missing command is ENOENT with no pid, as with Node', async () => {
  const t = new Tracker();
  trackers.push(t);
  const { child, leader } = await spawnJob({ argv: ['sleep', '300'], runId: 'r-native', jobId: 'r-native.task.2', stdio: POOL_STDIO });
  t.pid(leader.pid);
  assert.ok(child instanceof NativeChild);
  const exited = waitExit(child);
  process.kill(leader.pid, 'SIGTERM'); // the test's own child, by the pid it was just given
  assert.deepEqual(await exited, { code: null, signal: 'SIGTERM' });

  for (const argv of [['corral-no-such-command-x'], ['/nonexistent/corral-x']]) {
    const missing = await spawnJob({ argv, runId: 'r-native', jobId: 'r-native.task.3', stdio: POOL_STDIO });
    assert.ok(missing.child instanceof NativeChild);
    assert.equal(missing.child.pid, undefined);
    const end = await waitExit(missing.child);
    assert.equal(end.code, 127);
    assert.match(end.spawnError ?? '', /command not found/);
  }
});

test("CORRAL_NODE_SPAWN=1, and a job that shares corral's terminal, keep Node's spawn", async () => {
  const t = new Tracker();
  trackers.push(t);
  process.env[NODE_SPAWN_VAR] = '1';
  try {
    const a = await spawnJob({ argv: ['true'], runId: 'r-native', jobId: 'r-native.task.4', stdio: POOL_STDIO });
    t.pid(a.leader.pid);
    assert.ok(!(a.child instanceof NativeChild));
    assert.deepEqual(await waitExit(a.child), { code: 0, signal: null });
  } finally {
    delete process.env[NODE_SPAWN_VAR];
  }
  shareTerminalWith('r-native.main');
  const b = await spawnJob({ argv: ['true'], runId: 'r-native', jobId: 'r-native.main', stdio: 'inherit' });
  t.pid(b.leader.pid);
  assert.ok(!(b.child instanceof NativeChild), 'a job in corral\'s own session and group');
  assert.deepEqual(await waitExit(b.child), { code: 0, signal: null });
});

test("a job that inherits corral's stdout finds it blocking, even when corral's side was non-blocking", () => {
  // A separate Node whose stdout (a pipe) is made non-blocking first; the job prints its fd 1's flags.
  const program = `
    const { loadSpawnLib } = await import(${JSON.stringify(new URL('../../src/os/posix-spawn.ts', import.meta.url).href)});
    const { spawnJob } = await import(${JSON.stringify(new URL('../../src/supervise/spawn-job.ts', import.meta.url).href)});
    const { waitExit } = await import(${JSON.stringify(new URL('../../src/jobs/leader-exit.ts', import.meta.url).href)});
    const l = loadSpawnLib();
    l.fcntl(1, 4, 'int', l.fcntl(1, 3) | 0o4000);
    if (!(l.fcntl(1, 3) & 0o4000)) throw new Error('could not make stdout non-blocking');
    const { child } = await spawnJob({ argv: ['sh', '-c', 'grep ^flags /proc/$$/fdinfo/1'], runId: 'r', jobId: 'r.t', stdio: ['ignore', 'inherit', 'inherit'] });
    if (child.constructor.name !== 'NativeChild') throw new Error('not started by posix_spawn');
    await waitExit(child);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: 30_000 });
  const flags = Number.parseInt(/^flags:\s+([0-7]+)$/m.exec(out)?.[1] ?? 'x', 8);
  assert.ok(Number.isInteger(flags), out);
  assert.equal(flags & 0o4000, 0, `the job's stdout is blocking (flags ${flags.toString(8)})`);
});

test('a task that exits before its pid reaches the main thread, and is reaped as an adopted orphan, still reports its status', async () => {
  const t = new Tracker();
  trackers.push(t);
  const lib = loadSpawnLib();
  assert.ok(lib, 'posix_spawn bindings load on this machine');
  const r = await posixSpawn(lib, { file: '/bin/sh', argv: ['sh', '-c', 'exit 7'], env: [], stdio: ['ignore', 'ignore', 'ignore'] });
  assert.ok('pid' in r);
  t.pid(r.pid);
  await waitFor(() => readStat(r.pid)?.state === 'Z', 'the task to be a zombie', 5000, 5);
  assert.equal(reapAdopted(takeSnapshot()), 1, 'the reaper pass took it for an orphan');
  const child = new NativeChild('/bin/sh', r.pid, r.fds);
  const exited = waitExit(child);
  watchNativeChild(child);
  assert.deepEqual(await exited, { code: 7, signal: null });
});

test('a running task keeps Node alive until it exits, as a libuv process handle does', () => {
  // A separate Node whose only pending work is the wait for a native child: it must not exit early (13).
  const program = `
    const { spawnJob } = await import(${JSON.stringify(new URL('../../src/supervise/spawn-job.ts', import.meta.url).href)});
    const { waitExit } = await import(${JSON.stringify(new URL('../../src/jobs/leader-exit.ts', import.meta.url).href)});
    const { child } = await spawnJob({ argv: ['sh', '-c', 'sleep 1; exit 5'], runId: 'r', jobId: 'r.t', stdio: ['ignore', 'ignore', 'ignore'] });
    if (child.constructor.name !== 'NativeChild') throw new Error('not started by posix_spawn');
    const end = await waitExit(child);
    process.stdout.write(JSON.stringify(end));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: 30_000 });
  assert.deepEqual(JSON.parse(out), { code: 5, signal: null });
});

test("a bare command name is searched in the job's PATH, a relative entry in the job's directory, as execvp does", async () => {
  const t = new Tracker();
  trackers.push(t);
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'corral-native-path-')));
  try {
    mkdirSync(join(dir, 'tools'));
    writeFileSync(join(dir, 'tools', 'corral-hello'), '#!/bin/sh\necho "hello from $(pwd)"\n', { mode: 0o755 });
    const { child, leader } = await spawnJob({ argv: ['corral-hello'], runId: 'r-native', jobId: 'r-native.task.6', cwd: dir, env: { ...process.env, PATH: `tools:${process.env.PATH}` }, stdio: POOL_STDIO });
    t.pid(leader.pid);
    assert.ok(child instanceof NativeChild);
    const exited = waitExit(child);
    assert.equal(await readAll(child.stdout), `hello from ${dir}\n`);
    assert.deepEqual(await exited, { code: 0, signal: null });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('posixSpawnSync lays out fds beyond 2 as Node does for numeric stdio: copies of corral fds (one of them a low fd taken over by another slot), an ignored one closed', async () => {
  const t = new Tracker();
  trackers.push(t);
  const lib = loadSpawnLib();
  assert.ok(lib, 'the posix_spawn bindings load here');
  const dir = mkdtempSync(join(tmpdir(), 'corral-native-fds-'));
  const [a, b] = [join(dir, 'a'), join(dir, 'b')].map((p) => (writeFileSync(p, ''), p));
  const fdA = openSync(a, 'a');
  const fdB = openSync(b, 'a');
  try {
    // child fd 1 and 2 are file b; fd 3 is file a; fd 4 is corral's fd 1 (stdout), a fd the layout has
    // already replaced with b by then, so it must reach the child through a copy; fd 5 is ignored (closed)
    // ls, in a subshell (dash applies a simple command's redirection in the shell itself), lists the shell's fds
    const r = posixSpawnSync(lib, { file: '/bin/sh', argv: ['sh', '-c', '(ls -l /proc/$$/fd >&3); exit 0'], env: [`PATH=${process.env.PATH}`], stdio: ['ignore', fdB, fdB, fdA, 1, 'ignore'] });
    assert.ok(!('errno' in r), 'spawned');
    t.pid(r.pid);
    const child = new NativeChild('/bin/sh', r.pid, r.fds);
    watchNativeChild(child);
    assert.deepEqual(await waitExit(child), { code: 0, signal: null });
    const fds = new Map(readFileSync(a, 'utf8').split('\n').flatMap((l) => {
      const m = / (\d+) -> (.*)$/.exec(l);
      return m ? [[Number(m[1]), m[2]!] as const] : [];
    }));
    assert.equal(fds.get(1), realpathSync(b));
    assert.equal(fds.get(2), realpathSync(b));
    assert.equal(fds.get(3), realpathSync(a));
    assert.equal(fds.get(4), readlinkSync('/proc/self/fd/1'), "fd 4 is corral's stdout, not file b that fd 1 became in the child");
    assert.equal(fds.has(5), false, 'an ignored fd above 2 is closed');
  } finally {
    closeSync(fdA);
    closeSync(fdB);
    rmSync(dir, { recursive: true, force: true });
  }
});
