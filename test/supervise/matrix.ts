import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, before } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { FIXTURES, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';
import { buildSetuidHelper } from '../helpers/setuid.ts';
import { assertContainment, canUseCgroups } from './containment-kit.ts';

/** A misbehaving program and what "all of it is up" looks like (processes carrying its token in argv). */
export interface Fixture {
  name: string;
  script: string;
  /** processes carrying the token in argv once everything is up, the leader included, the fixture's shell not (wait mode) */
  ready: number;
  stopped?: number;
  setuid?: boolean;
}

export const FIXTURE_LIST: Fixture[] = [
  { name: 'double fork', script: 'double-fork.sh', ready: 2 },
  { name: 'setsid + setpgid', script: 'setsid-child.sh', ready: 3 },
  { name: 'env -i + double fork', script: 'env-cleared.sh', ready: 2 },
  { name: 'ignores SIGTERM', script: 'ignore-term.sh', ready: 3 },
  { name: 'SIGSTOPs itself', script: 'self-stop.sh', ready: 3, stopped: 2 },
  { name: 'leaves zombies', script: 'zombies.sh', ready: 2 },
  { name: 'Pool + subprocess', script: 'mp-pool.sh', ready: 8 },
  { name: 'bash restart loop', script: 'restart-loop.sh', ready: 2 },
  { name: 'uid change (setuid helper)', script: 'setuid-child.sh', ready: 2, setuid: true },
];

export type Ending = 'exit 0' | 'exit 1' | 'timeout' | 'SIGINT' | 'SIGTERM' | 'SIGKILL';
export const ENDINGS: Ending[] = ['exit 0', 'exit 1', 'timeout', 'SIGINT', 'SIGTERM', 'SIGKILL'];

const GRACE_MS = 1000;
const EXPECT: Record<Ending, { code: number | null; status: string; reason: string }> = {
  'exit 0': { code: 0, status: 'succeeded', reason: 'exited' },
  'exit 1': { code: 1, status: 'failed', reason: 'exited' },
  timeout: { code: 124, status: 'failed', reason: 'timeout' },
  SIGINT: { code: 130, status: 'interrupted', reason: 'signal' },
  SIGTERM: { code: 143, status: 'interrupted', reason: 'signal' },
  SIGKILL: { code: null, status: 'lost', reason: 'supervisor-lost' },
};

function readRun(home: string) {
  const db = openLedger(join(home, 'ledger.sqlite'));
  try {
    const run = db.prepare('SELECT id, status, stop_reason, ended_at, containment, cgroup FROM runs').get() as
      | { id: string; status: string; stop_reason: string; ended_at: number; containment: string | null; cgroup: string | null }
      | undefined;
    const registry = run ? (db.prepare('SELECT pid, starttime FROM registry WHERE run_id = ?').all(run.id) as { pid: number; starttime: number }[]) : [];
    const jobs = run ? (db.prepare('SELECT id, cgroup FROM jobs WHERE run_id = ?').all(run.id) as { id: string; cgroup: string | null }[]) : [];
    return { run, registry, jobs };
  } finally {
    db.close();
  }
}

/** One cell: start the fixture under corral, end it one way, then scan /proc ourselves for survivors. */
async function runCell(fx: Fixture, ending: Ending, cgroup: boolean, helper: string | null): Promise<void> {
  const t = new Tracker();
  const token = t.token(fx.script.replace(/\W/g, ''));
  const home = tempHome();
  const mode = ending === 'exit 0' ? 'exit0' : ending === 'exit 1' ? 'exit1' : 'wait';
  const flags = ['run', '--grace', `${GRACE_MS}ms`, ...(ending === 'timeout' ? ['--timeout', '3s'] : []), '--', join(FIXTURES, fx.script), token, mode];
  // CORRAL_CGROUP has one value the code reads, 'off'; the cgroup half unsets it (it may be in the test's env).
  const env: NodeJS.ProcessEnv = { CORRAL_TEST_TOKEN: token, CORRAL_CGROUP: cgroup ? undefined : 'off', CORRAL_TEST_SETUID_HELPER: helper ?? '', CORRAL_TEST_TARGET_UID: '65534' };
  const corral = startCorral(flags, { env, home });
  t.pid(corral.child.pid);
  let failed = true;
  try {
    if (mode === 'wait' && ending !== 'timeout') {
      // Count the workload's own processes: corral's command line and the fixture shell's carry the token too.
      const workload = () => findByToken(token).filter((p) => p.state !== 'Z' && p.cmd.includes(token) && p.pid !== corral.child.pid && !p.cmd.includes(fx.script) && !p.cmd.includes('__sentinel'));
      await waitFor(() => workload().length >= fx.ready, `${fx.ready} processes of ${fx.script}`, 15_000);
      if (fx.stopped) await waitFor(() => findByToken(token).filter((p) => p.state === 'T').length >= fx.stopped!, 'stopped processes', 10_000);
      for (const p of findByToken(token)) t.pid(p.pid);
    }
    if (ending === 'SIGKILL') {
      // The registry must have seen the processes (README: the one window in fallback mode).
      const live = findByToken(token).filter((p) => p.state !== 'Z' && p.cmd.includes(token) && p.pid !== corral.child.pid && !p.cmd.includes('__sentinel'));
      await waitFor(() => {
        const reg = readRun(home).registry;
        return live.every((p) => reg.some((r) => r.pid === p.pid && r.starttime === p.starttime) || !findByToken(token).some((q) => q.pid === p.pid));
      }, 'registry to list every process', 10_000);
      corral.child.kill('SIGKILL');
      const killedAt = Date.now();
      await corral.done;
      const run = await waitFor(() => {
        const r = readRun(home).run;
        return r && r.status !== 'running' ? r : null;
      }, 'sentinel to record supervisor-lost', GRACE_MS + 8000);
      // The sentinel is done when its process (sh, then the teardown it execs) has exited.
      await waitFor(() => !findByToken(token).some((p) => p.cmd.includes('__sentinel') || p.cmd.includes('read -r line')), 'sentinel to exit', GRACE_MS + 8000);
      const finished = Date.now();
      assert.ok(run.ended_at <= finished);
      assert.ok(finished - killedAt <= GRACE_MS + 3000, `sentinel took ${finished - killedAt}ms (limit grace + 3s)`);
    } else if (ending === 'SIGINT' || ending === 'SIGTERM') {
      corral.child.kill(ending);
    }
    const res = await corral.done;
    if (ending !== 'SIGKILL') assert.equal(res.code, EXPECT[ending].code, `exit status\n${res.stderr}`);
    // a process SIGKILLed a moment ago may still be in its exit path (no environ, not yet a zombie) on a
    // loaded machine: give the learned ones a bounded moment; one still alive after it is a leftover
    await waitFor(() => t.alive().length === 0, 'the learned processes to finish dying', 3000).catch(() => {});
    const survivors = findByToken(token).filter((p) => p.state !== 'Z');
    assert.deepEqual(survivors.map((p) => `${p.pid} ${p.state} ${p.cmd}`), [], 'processes survived');
    const { run, jobs } = readRun(home);
    assert.equal(run?.status, EXPECT[ending].status);
    assert.equal(run?.stop_reason, EXPECT[ending].reason);
    assertContainment(run!, jobs, cgroup);
    failed = false;
  } finally {
    // Kill whatever is left even when an assertion above failed; only report it when nothing else did.
    const killed = await t.cleanup();
    if (!failed) assert.deepEqual(killed, [], 'the test had to kill leftovers itself');
  }
}

/** Registers the whole fixture x ending matrix for one containment mode. */
export function describeMatrix(cgroup: boolean): void {
  const cgroupAvailable = canUseCgroups();
  describe(`containment matrix (${cgroup ? 'cgroup2' : 'CORRAL_CGROUP=off'})`, { concurrency: 3 }, () => {
    let helper: string | null = null;
    before(() => {
      helper = buildSetuidHelper();
    });
    for (const fx of FIXTURE_LIST) {
      for (const ending of ENDINGS) {
        it(`${fx.name} / ${ending}`, async (t) => {
          if (fx.setuid && !helper) return t.skip('needs root and a C compiler to build the setuid helper');
          // Under CI a cgroup cell that cannot use cgroups fails (the cell's containment assertion says why).
          if (cgroup && !cgroupAvailable && process.env.CI !== 'true') return t.skip('no writable cgroup2 here');
          await runCell(fx, ending, cgroup, helper);
        });
      }
    }
  });
}
