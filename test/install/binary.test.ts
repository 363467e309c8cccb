import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, ROOT, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';
import { sentinelLog, sentinels, workload } from '../supervise/sentinel-kit.ts';
import { buildBinary, canHideNode, epermStderr, nodeBinaries, withoutNode } from './install-kit.ts';

// The single-file corral (issue 11), run where no Node can start: every node binary is hidden by a bind
// mount in a private mount namespace, so whatever works here works on a GPU server without Node.js.
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let bin = '';
const tracker = new Tracker();

before(() => {
  if (canHideNode()) bin = buildBinary();
});
after(async () => {
  assert.deepEqual(await tracker.cleanup(), [], 'nothing a test started may outlive it');
});

/** Runs the binary in the namespace without Node; resolves its exit and output. */
function runHidden(args: string[], env: NodeJS.ProcessEnv = {}) {
  const [cmd, ...rest] = withoutNode([bin, ...args]);
  const child = spawn(cmd!, rest, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  tracker.pid(child.pid);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.once('close', (code) => resolve({ code, out })));
  return { child, done, output: () => out };
}

test('in a namespace where no node binary can start: the binary prints the package version; node itself cannot run there', async (t) => {
  if (!bin) return skipOrFail(t, 'cannot make a mount namespace (unshare -m) here');
  assert.ok(nodeBinaries().length > 0);
  const [cmd, ...rest] = withoutNode(['sh', '-c', 'for n in "$@"; do "$n" --version && exit 1; done; exit 0', 'sh', ...nodeBinaries()]);
  assert.equal(spawnSync(cmd!, rest).status, 0, 'a node binary still ran inside the namespace');
  const r = await runHidden(['--version']).done;
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out.trim(), VERSION);
});

test('without Node: run --timeout of a job that escapes with setsid and setpgid ends at the timeout with nothing left, koffi loaded (subreaper)', async (t) => {
  if (!bin) return skipOrFail(t, 'cannot make a mount namespace (unshare -m) here');
  const token = tracker.token('bin-timeout');
  const r = await runHidden(['run', '--timeout', '2s', '--', 'sh', join(FIXTURES, 'setsid-child.sh'), token, 'wait'], { CORRAL_HOME: tempHome() }).done;
  assert.equal(r.code, 124, r.out);
  // the containment line names what was set up: the subreaper is a prctl made through koffi's embedded native module
  assert.match(r.out, /containment .*, subreaper,/, r.out);
  assert.deepEqual(workload(token, undefined), [], 'a process of the job outlived corral');
});

test('without Node: SIGKILL of the binary\'s supervisor, then its sentinel (the binary again, not node bin/corral.js) tears the job down', async (t) => {
  if (!bin) return skipOrFail(t, 'cannot make a mount namespace (unshare -m) here');
  const token = tracker.token('bin-sentinel');
  const home = tempHome();
  const c = runHidden(['run', '--', 'sh', join(FIXTURES, 'setsid-child.sh'), token, 'wait'], { CORRAL_HOME: home, CORRAL_TEST_TOKEN: token });
  // the leader and both escapees are up (each is a hold.py carrying the token)
  await waitFor(() => workload(token, c.child.pid).filter((p) => p.cmd.includes('hold.py')).length >= 3, `the job's three processes (${c.output()})`, 20_000);
  const [waiting] = await waitFor(() => sentinels(token), 'the sentinel');
  assert.ok(waiting!.cmd.includes(bin), `the sentinel re-executes the binary: ${waiting!.cmd}`);
  assert.ok(!waiting!.cmd.includes('corral.js'), waiting!.cmd);
  c.child.kill('SIGKILL');
  await c.done;
  await waitFor(() => workload(token, c.child.pid).length === 0, 'the sentinel to tear the job down', 20_000);
  await waitFor(() => sentinels(token).length === 0, 'the sentinel to finish', 20_000);
  const runId = /run (\S+):/.exec(c.output())?.[1] ?? '';
  assert.ok(runId, c.output());
  assert.match(sentinelLog(home, runId), /\S/, 'the sentinel wrote its teardown to its log');
});

test('the binary, run by a user who may not signal a root-owned child, names itself by absolute path in the sudo line', async (t) => {
  if (!bin) return skipOrFail(t, 'cannot make a mount namespace (unshare -m) here');
  const stderr = await epermStderr([bin], tracker);
  if (stderr === null) return skipOrFail(t, 'cannot build the setuid helper (needs root and cc)');
  assert.ok(stderr.includes(`not permitted to signal it: sudo ${bin} reap --job `), stderr);
});

test('with /tmp mounted noexec (dlopen refuses files there), the binary still loads koffi from another private place', async (t) => {
  if (!bin) return skipOrFail(t, 'cannot make a mount namespace (unshare -m) here');
  const home = tempHome();
  // /tmp is remounted noexec with its files kept (the home is there); the binary, which may itself lie
  // under /tmp (a checkout there), is first bound onto a file in a fresh tmpfs on /mnt
  const script = 'mount -t tmpfs tmpfs /mnt && : > /mnt/corral && mount --bind "$1" /mnt/corral && shift && ' +
    'mount --bind /tmp /tmp && mount -o remount,bind,noexec /tmp && exec /mnt/corral "$@"';
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', bin, 'run', '--', 'true'], {
    env: { ...process.env, NO_COLOR: '1', CORRAL_HOME: home }, encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /containment .*, subreaper,/, r.stderr);
});

test('without Node: the binary is also the guard\'s GPU probe process (corral __gpu-helper answers a probe with one JSON line)', async (t) => {
  if (!bin) return skipOrFail(t, 'cannot make a mount namespace (unshare -m) here');
  const [cmd, ...rest] = withoutNode([bin, '__gpu-helper']);
  const child = spawn(cmd!, rest, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CORRAL_GPU_PROBES: 'nvml,nvidia-smi' } });
  tracker.pid(child.pid);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  child.stdin!.write('probe\n');
  await waitFor(() => out.includes('\n') || child.exitCode !== null, `an answer (${err})`, 20_000);
  const answer = JSON.parse(out.split('\n')[0]!) as { devices: unknown[]; probes: { name: string }[] };
  assert.ok(Array.isArray(answer.devices), out);
  assert.ok(answer.probes.some((p) => p.name === 'nvml'), out);
  child.stdin!.end();
  assert.equal(await exited, 0, err);
});

test('without Node: corral ui serves every file of the page from the binary, byte for byte as in src/web/assets', async (t) => {
  if (!bin) return skipOrFail(t, 'cannot make a mount namespace (unshare -m) here');
  const { ASSET_FILES } = await import('../../src/web/assets.ts');
  const ui = runHidden(['ui', '--listen', '127.0.0.1:0'], { CORRAL_HOME: tempHome() });
  try {
    const url = (await waitFor(() => /dashboard at (http:\/\/\S+?\/);/.exec(ui.output()), `the dashboard's address (${ui.output()})`, 20_000))[1]!;
    for (const file of ASSET_FILES) {
      const res = await fetch(new URL(file === 'index.html' ? '/' : `/${file}`, url));
      assert.equal(res.status, 200, file);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(ROOT, 'src', 'web', 'assets', file))), `${file} differs`);
    }
  } finally {
    ui.child.kill('SIGTERM');
    await ui.done;
  }
});
