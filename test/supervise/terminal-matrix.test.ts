import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BIN, FIXTURES, tempHome } from '../helpers/corral.ts';
import { findByToken, Tracker, waitFor } from '../helpers/procs.ts';
import { buildSetuidHelper } from '../helpers/setuid.ts';
import { assertContainment, canUseCgroups, recordedRuns } from './containment-kit.ts';
import { FIXTURE_LIST, type Fixture } from './matrix.ts';
import { Pane } from './terminal-kit.ts';
import { openLedger } from '../../src/ledger/db.ts';

// The containment matrix in the mode where the job shares corral's terminal (issue 10 item 2): the job is
// in corral's session and group, so the session/group rule finds nothing, and everything that escapes must
// still be caught by the cgroup, the subreaper, the markers and the registry. Ctrl-C in tmux, and a
// SIGKILL of corral (its sentinel tears down), with and without cgroups.

const GRACE = '1000ms';
type Ending = 'Ctrl-C' | 'SIGKILL';

async function runCell(fx: Fixture, ending: Ending, cgroup: boolean, helper: string | null): Promise<void> {
  const t = new Tracker();
  const token = t.token(`term${fx.script.replace(/\W/g, '')}`);
  const home = tempHome();
  const pane = new Pane(home);
  let failed = true;
  try {
    const env = `CORRAL_TEST_TOKEN=${token} ${cgroup ? '' : 'CORRAL_CGROUP=off '}CORRAL_TEST_SETUID_HELPER=${helper ?? ''} CORRAL_TEST_TARGET_UID=65534`;
    pane.type(`${env} ${BIN} run --grace ${GRACE} -- ${join(FIXTURES, fx.script)} ${token} wait; echo "rc=$?"`);
    const isCorral = (cmd: string) => cmd.includes(`${BIN} run`);
    const workload = () => findByToken(token).filter((p) => p.state !== 'Z' && p.cmd.includes(token) && !isCorral(p.cmd) && !p.cmd.includes(fx.script) && !p.cmd.includes('__sentinel'));
    await waitFor(() => workload().length >= fx.ready, `${fx.ready} processes of ${fx.script}`, 15_000);
    if (fx.stopped) await waitFor(() => findByToken(token).filter((p) => p.state === 'T').length >= fx.stopped!, 'stopped processes', 10_000);
    for (const p of findByToken(token)) t.pid(p.pid);
    assert.match(pane.screen(), /the job shares this terminal/, 'corral ran in terminal mode');
    const runId = recordedRuns(home)[0]!.id;
    if (ending === 'Ctrl-C') {
      pane.keys('C-c');
      await pane.see(/rc=130/, 'corral to exit 130 after Ctrl-C');
    } else {
      const db = openLedger(join(home, 'ledger.sqlite'));
      const live = workload();
      await waitFor(() => {
        const reg = db.prepare('SELECT pid, starttime FROM registry WHERE run_id = ?').all(runId) as { pid: number; starttime: number }[];
        return live.every((p) => reg.some((r) => r.pid === p.pid && r.starttime === p.starttime) || !findByToken(token).some((q) => q.pid === p.pid));
      }, 'registry to list every process', 10_000);
      db.close();
      const corral = findByToken(token).find((p) => isCorral(p.cmd) && p.state !== 'Z')!;
      process.kill(corral.pid, 'SIGKILL');
      await pane.see(/rc=137/, 'the shell to see corral killed');
      await waitFor(() => recordedRuns(home)[0]!.status !== 'running', 'the sentinel to record the loss', 10_000);
    }
    await waitFor(() => findByToken(token).filter((p) => p.state !== 'Z').length === 0, 'every process of the run to be gone', 10_000).catch(() => {});
    const survivors = findByToken(token).filter((p) => p.state !== 'Z');
    assert.deepEqual(survivors.map((p) => `${p.pid} ${p.state} ${p.cmd}`), [], 'processes survived');
    const run = recordedRuns(home)[0]!;
    assert.deepEqual([run.status, run.stop_reason], ending === 'Ctrl-C' ? ['interrupted', 'signal'] : ['lost', 'supervisor-lost']);
    assertContainment(run, run.jobs, cgroup);
    failed = false;
  } finally {
    pane.close();
    const killed = await t.cleanup();
    if (!failed) assert.deepEqual(killed, [], 'the test had to kill leftovers itself');
  }
}

for (const cgroup of [true, false]) {
  describe(`containment matrix in a terminal (${cgroup ? 'cgroup2' : 'CORRAL_CGROUP=off'})`, { concurrency: 3 }, () => {
    let helper: string | null = null;
    before(() => {
      helper = buildSetuidHelper();
    });
    for (const fx of FIXTURE_LIST) {
      for (const ending of ['Ctrl-C', 'SIGKILL'] as Ending[]) {
        it(`${fx.name} / ${ending}`, async (t) => {
          if (fx.setuid && !helper) return t.skip('needs root and a C compiler to build the setuid helper');
          if (cgroup && !canUseCgroups() && process.env.CI !== 'true') return t.skip('no writable cgroup2 here');
          await runCell(fx, ending, cgroup, helper);
        });
      }
    }
  });
}
