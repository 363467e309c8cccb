import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openScratchState } from '../../src/guard/state.ts';
import { FORGET_GONE_MS, MAX_ACTIONS, recordAction, settleState, trackStrays } from '../../src/guard/tracked.ts';
import { reapStrays } from '../../src/guard/reap-strays.ts';
import { openLedgerToRead } from '../../src/ledger/db.ts';
import { readStat } from '../../src/proc/stat.ts';
import { isAlive } from '../../src/proc/identity.ts';
import type { StrayScan } from '../../src/strays/scan.ts';
import type { Stray } from '../../src/strays/types.ts';

const stray = (pid: number): Stray => ({
  pid, starttime: 7, ppid: 1, pgid: pid, sid: pid, uid: 1500, user: 'alice', state: 'S', comm: 'x', argv: ['x'], command: 'x', startedAt: 0, runtimeMs: 0,
  cpuTicks: 0, rssBytes: 0, orphaned: true, gpu: [], gpuBytes: 0, reasons: [{ reason: 'orphan', severity: 'warning', data: {} }], severity: 'warning', attribution: { activeAtStart: [] },
});

test('state stays bounded over thousands of scans: strays gone for a while and other boots are forgotten, the action log is capped', () => {
  const db = openScratchState('/nonexistent/corral-guard-test/guard.sqlite');
  const perScan = 5;
  const stepMs = 60_000;
  for (let i = 0; i < 3000; i++) {
    // each scan (a minute apart, 50 hours in all) sees five new strays; the previous ones are gone
    const strays = Array.from({ length: perScan }, (_, k) => stray(i * perScan + k + 2));
    trackStrays(db, strays, 'boot-a', i * stepMs, i * stepMs);
    settleState(db, new Set(strays.map((s) => `${s.pid}:${s.starttime}`)), 'boot-a', i * stepMs);
  }
  const rows = (db.prepare('SELECT COUNT(*) AS n FROM guard_strays').get() as { n: number }).n;
  assert.ok(rows <= (FORGET_GONE_MS / stepMs + 2) * perScan, `${rows} rows kept`);
  settleState(db, new Set(), 'boot-b', 0);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM guard_strays').get() as { n: number }).n, 0, 'another boot: every identity forgotten');
  for (let i = 0; i < MAX_ACTIONS + 50; i++) recordAction(db, { pid: 2, starttime: 7, user: 'alice', reason: 'orphan', action: 'notify', outcome: 'ok' });
  settleState(db, new Set(), 'boot-b', 0);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM guard_actions').get() as { n: number }).n, MAX_ACTIONS);
  db.close();
});

test('reap: a stray whose pid names another process since it was judged (starttime changed) is left alone', async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const st = readStat(child.pid!)!;
    const judged = { ...stray(child.pid!), starttime: st.starttime + 1 };
    const out = await reapStrays([judged], {} as StrayScan, openLedgerToRead('/nonexistent/corral-guard-test/ledger.sqlite'), () => true, 100);
    assert.match(out[0]!.outcome, /identity changed since judged/);
    assert.ok(isAlive({ pid: child.pid!, starttime: st.starttime }), 'the process now at that pid is untouched');
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
});
