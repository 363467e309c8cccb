import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { UsageError } from '../../src/config/errors.ts';
import { isAlive } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { takeSnapshot } from '../../src/proc/snapshot.ts';
import { defaultAllowList } from '../../src/strays/allow-list.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { childrenOf, planFor, spawnShell, tempLedger } from './reap-helpers.ts';

const t = new Tracker();
const db = tempLedger();
const root = process.getuid?.() === 0;
after(async () => {
  db.close();
  // Planning signals nothing, so everything the tests started is still there for the tracker to kill.
  await t.cleanup();
  assert.deepEqual(t.alive(), []);
});

test('never planned: pid 1, kernel threads, corral itself and its ancestors', async () => {
  const kthread = [...takeSnapshot({ environ: false }).values()].find((p) => p.kernelThread && p.pid > 2)!;
  const plan = await planFor(db, { pids: [1, kthread.pid, process.pid, process.ppid] });
  assert.deepEqual(plan.targets, []);
  assert.deepEqual(plan.skipped.map((s) => [s.pid, s.why]), [[1, 'init'], [kthread.pid, 'kernel-thread'], [process.pid, 'protected'], [process.ppid, 'protected']]);
  assert.deepEqual(plan.exclude.sort(), [1, kthread.pid, process.pid, process.ppid].sort());
});

test('a named process takes its whole subtree, in one scope per target', async () => {
  const token = t.token('tree');
  const sh = spawnShell(t, token, 'sleep 100000 & sleep 100000 & wait');
  const kids = await childrenOf(t, sh.pid!, 2);
  const plan = await planFor(db, { pids: [sh.pid!] });
  assert.deepEqual(plan.targets.map((x) => [x.pid, x.selectedBy, x.under]).sort(), [[sh.pid!, 'pid', undefined], ...kids.map((k) => [k, 'subtree', sh.pid!])].sort());
  assert.equal(plan.scopes.length, 1);
  assert.deepEqual(plan.scopes[0]!.registry, [{ pid: sh.pid!, starttime: readStat(sh.pid!)!.starttime }]);
  assert.ok([sh.pid!, ...kids].every((p) => isAlive({ pid: p, starttime: readStat(p)!.starttime })), 'planning signals nothing');
  assert.equal(readStat(sh.pid!)!.state, 'S');
});

test("other users' processes: root needs --any-user; others are told to use sudo", { skip: !root && 'needs root to start a process as nobody' }, async () => {
  const token = t.token('nobody');
  const other = spawnShell(t, token, 'exec sleep 100000', { uid: 65534, gid: 65534 });
  await waitFor(() => readStat(other.pid!)?.state === 'S' && takeSnapshot({ environ: false, filter: (s) => s.pid === other.pid }).get(other.pid!)?.uid === 65534, 'the process to run as nobody');
  const refused = await planFor(db, { pids: [other.pid!] });
  assert.deepEqual(refused.skipped.map((s) => [s.why, s.user, s.fix]), [['other-user', 'nobody', `corral reap --any-user ${other.pid} --yes`]]);
  const taken = await planFor(db, { pids: [other.pid!], anyUser: true });
  assert.deepEqual(taken.targets.map((x) => x.pid), [other.pid]);
  // As an ordinary user (uid 1000 here), a named process of another user is attempted (EPERM is then reported);
  // a stray scan leaves it out up front with the sudo line.
  process.kill(other.pid!, 'SIGSTOP');
  await waitFor(() => readStat(other.pid!)?.state === 'T', 'stopped');
  const named = await planFor(db, { pids: [other.pid!] }, { uid: 1000 });
  assert.deepEqual(named.targets.map((x) => x.pid), [other.pid]);
  const scanned = await planFor(db, { strays: true, pids: [other.pid!], filters: { reasons: ['stopped'] } }, { uid: 1000 });
  assert.deepEqual(scanned.skipped.map((s) => [s.why, s.fix]), [['other-user', `sudo corral reap --any-user ${other.pid} --yes`]]);
});

test('allow-listed daemons are left alone unless named by pid', async () => {
  const token = t.token('allowed');
  const sh = spawnShell(t, token, 'kill -STOP $$; exec sleep 100000');
  await waitFor(() => readStat(sh.pid!)?.state === 'T', 'the shell to stop itself');
  const allowList = { ...defaultAllowList(), commands: [new RegExp(token)] };
  const byScan = await planFor(db, { strays: true, pids: [sh.pid!], filters: { reasons: ['stopped'] } }, { allowList });
  assert.deepEqual(byScan.targets, []);
  assert.match(byScan.skipped[0]!.detail, /allow-listed \(command/);
  assert.equal(byScan.skipped[0]!.fix, `corral reap ${sh.pid}`);
  const byPid = await planFor(db, { pids: [sh.pid!] }, { allowList });
  assert.deepEqual(byPid.targets.map((x) => x.pid), [sh.pid]);
});

test('a zombie is resolved by reaping its parent when the parent is a target, else explained', async () => {
  const token = t.token('zombie');
  const parent = spawnShell(t, token, 'sleep 0.2 & exec sleep 100000');
  const [zombie] = await childrenOf(t, parent.pid!, 1);
  await waitFor(() => readStat(zombie!)?.state === 'Z', 'the child to become a zombie');
  const alone = await planFor(db, { pids: [zombie!] });
  assert.deepEqual(alone.targets, []);
  assert.deepEqual(alone.zombies.map((z) => [z.pid, z.ppid, z.parentComm, z.resolved]), [[zombie, parent.pid, 'sleep', false]]);
  const withParent = await planFor(db, { pids: [zombie!, parent.pid!] });
  assert.deepEqual(withParent.targets.map((x) => x.pid), [parent.pid]);
  assert.deepEqual(withParent.zombies.map((z) => z.resolved), [true]);
});

test('as root, --strays without --reason takes only strays of corral runs and GPU holders', { skip: !root && 'the rule is for root' }, async () => {
  const token = t.token('rootdefault');
  const stopped = spawnShell(t, token, 'kill -STOP $$; exec sleep 100000');
  const holder = spawnShell(t, token, 'exec sleep 100000');
  await waitFor(() => readStat(stopped.pid!)?.state === 'T' && readStat(holder.pid!)?.state === 'S', 'both up');
  const gpu = { devices: [], processes: [{ pid: holder.pid!, device: 0, usedBytes: 2 ** 30, kind: 'compute' as const, sources: ['nvml' as const] }], probes: [] };
  const plan = await planFor(db, { strays: true, pids: [stopped.pid!, holder.pid!] }, { gpu, uid: 0 });
  assert.deepEqual(plan.targets.map((x) => [x.pid, x.reasons]), [[holder.pid, ['gpu-holder']]]);
  assert.equal(plan.notTaken, 1, 'the stopped process is a stray, but nothing ties it to corral or a GPU');
  const explicit = await planFor(db, { strays: true, pids: [stopped.pid!, holder.pid!], filters: { reasons: ['stopped'] } }, { gpu, uid: 0 });
  assert.deepEqual(explicit.targets.map((x) => x.pid), [stopped.pid]);
});

test('an unknown run or job is a usage error before anything is signalled', async () => {
  await assert.rejects(planFor(db, { run: 'no-such-run' }), UsageError);
  await assert.rejects(planFor(db, { job: 'last.main' }), UsageError);
});
