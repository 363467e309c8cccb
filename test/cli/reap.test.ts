import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { getRun } from '../../src/ledger/runs.ts';
import { isAlive, type Identity } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import type { PlanEntry, PlanZombie } from '../../src/reap/plan.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { NOBODY, isRoot, makeStrays, type StrayKit } from '../strays/stray-kit.ts';

const t = new Tracker();
let kit: StrayKit;
before(async () => {
  kit = await makeStrays(t);
});
after(async () => {
  const left = await t.cleanup();
  kit?.dispose();
  // Only the bystander (and the EPERM test's target) are left for the tracker: reap took everything else.
  assert.deepEqual(left.map((l) => l.pid).filter((p) => p !== kit.bystander.pid && p !== epermTarget?.pid), []);
});

let epermTarget: Identity | undefined;
const identities = () => [kit.gpuOrphan, kit.stopped, kit.zombieParent, ...(kit.otherUid ? [kit.otherUid] : [])];
const allPids = () => [...kit.strayPids(), kit.bystander.pid].map(String);

interface PlanJson {
  plan: { targets: PlanEntry[]; zombies: PlanZombie[]; skipped: PlanEntry[]; notTaken: number };
  result: null | { killed: PlanEntry[]; remaining: { pid: number; why: string }[] };
}

async function reap(args: string[], env: NodeJS.ProcessEnv = kit.env) {
  const res = await runCorral(['reap', ...args], { env });
  return { ...res, json: args.includes('--json') && res.stdout ? (JSON.parse(res.stdout) as PlanJson) : undefined };
}

function assertUntouched(): void {
  for (const id of [...identities(), kit.bystander]) assert.ok(isAlive(id), `${id.pid} still runs`);
  assert.equal(readStat(kit.stopped.pid)?.state, 'T', 'the stopped process did not even get a SIGCONT');
  assert.equal(readStat(kit.zombie.pid)?.state, 'Z');
  for (const pid of kit.runPids) assert.equal(readStat(pid)?.state, 'S');
}

test('with no terminal and no --yes: exit 2 and nothing is signalled', async () => {
  const res = await reap(allPids());
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /stdin is not a terminal[\s\S]*--yes/);
  assert.match(res.stdout, /reap plan/);
  assertUntouched();
});

test('nothing selected is a usage error', async () => {
  const res = await reap(['--yes']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /nothing selected/);
});

test('--dry-run shows every stray of the given pids (not the bystander) and signals nothing', async () => {
  const res = await reap(['--strays', '--reason', 'all', '--any-user', '--dry-run', '--json', ...allPids()]);
  assert.equal(res.code, 0, res.stderr);
  const plan = res.json!.plan;
  const expected = [kit.gpuOrphan.pid, kit.stopped.pid, kit.zombieParent.pid, ...kit.runPids, ...(kit.otherUid ? [kit.otherUid.pid] : [])];
  assert.deepEqual(plan.targets.map((x) => x.pid).sort(), expected.sort());
  assert.deepEqual(plan.zombies.map((z) => [z.pid, z.resolved]), [[kit.zombie.pid, true]], 'the zombie goes with its parent');
  assert.equal(res.json!.result, null);
  assertUntouched();
});

test('as root, --strays without --reason takes only strays of corral runs and GPU holders', { skip: !isRoot && 'the rule is for root' }, async () => {
  const res = await reap(['--strays', '--dry-run', '--json', ...allPids()]);
  const targets = res.json!.plan.targets;
  assert.deepEqual(targets.map((x) => x.pid).sort(), [kit.gpuOrphan.pid, ...kit.runPids].sort());
  for (const x of targets) assert.ok(x.runId || x.gpu.length, `${x.pid} is tied to corral or a GPU`);
  assertUntouched();
});

test('machine-wide, as root: reap --strays --dry-run plans nothing without corral attribution or GPU use', { skip: !isRoot && 'the rule is for root' }, async () => {
  // No pid restriction: the whole machine, whose services include root processes with PPID 1. Dry run only.
  const res = await reap(['--strays', '--dry-run', '--json'], { CORRAL_HOME: tempHome() });
  assert.equal(res.code, 0, res.stderr);
  const { targets } = res.json!.plan;
  for (const x of targets) assert.ok(x.runId || x.gpu.length, `planned ${x.pid} (${x.command}) with neither a corral run nor a GPU`);
  assert.ok(!targets.some((x) => x.pid === 1 || x.pid === process.pid));
  assertUntouched();
});

test('--run and then --strays --yes remove them all, and nothing else', async () => {
  const byRun = await reap(['--run', kit.runId, '--yes', '--grace', '2s']);
  assert.equal(byRun.code, 0, byRun.stdout + byRun.stderr);
  assert.match(byRun.stdout, new RegExp(`reaped ${kit.runPids.length} process`));
  assert.match(byRun.stdout, kit.fakeNvml ? /GPU memory, before and after:\n  GPU 0 .* -> .* used/ : /GPU memory/);
  for (const pid of kit.runPids) {
    const st = readStat(pid);
    assert.ok(!st || st.state === 'Z', `run process ${pid} is gone`);
  }
  const db = openLedger(join(kit.home, 'ledger.sqlite'));
  assert.deepEqual([getRun(db, kit.runId)!.status, getRun(db, kit.runId)!.stop_reason], ['lost', 'supervisor-lost'], 'reap records the lost run');
  db.close();

  const res = await reap(['--strays', '--reason', 'all', '--any-user', '--yes', '--json', '--grace', '2s', ...allPids()]);
  assert.equal(res.code, 0, res.stderr);
  const killed = res.json!.result!.killed.map((k) => k.pid).sort();
  assert.deepEqual(killed, identities().map((i) => i.pid).sort());
  for (const id of identities()) assert.ok(!isAlive(id), `${id.pid} is gone`);
  const z = readStat(kit.zombie.pid);
  assert.ok(!z || z.starttime !== kit.zombie.starttime || z.ppid === 1, 'the zombie went with its parent, or waits on init to collect it');
  assert.ok(isAlive(kit.bystander), 'the bystander with no stray reason survives');
});

test('EPERM is reported with the owner and the sudo line, not crashed on', { skip: !isRoot && 'needs root to run corral as another user' }, async () => {
  const token = t.token('eperm');
  const target = spawn('sleep', ['100000'], { stdio: 'ignore', env: { ...process.env, CORRAL_TEST_TOKEN: token } });
  t.pid(target.pid);
  await waitFor(() => readStat(target.pid!)?.state === 'S', 'the root-owned target');
  epermTarget = { pid: target.pid!, starttime: readStat(target.pid!)!.starttime };
  const home = tempHome(NOBODY);
  const res = await runCorral(['reap', String(target.pid), '--yes', '--grace', '300ms'], { uid: NOBODY, gid: NOBODY, home, env: { HOME: home } });
  assert.equal(res.code, 1, res.stdout + res.stderr);
  assert.doesNotMatch(res.stderr, /internal error/);
  assert.match(res.stdout, new RegExp(`${target.pid} root .*not permitted: owned by root`));
  assert.match(res.stdout, new RegExp(`fix: sudo corral reap --any-user ${target.pid} --yes`));
  assert.ok(isAlive(epermTarget), 'still alive: nobody may not signal it');
});
