import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLedgerToRead } from '../../src/ledger/db.ts';
import { FIXTURES } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';

const t = new Tracker();
const dir = mkdtempSync(join(tmpdir(), 'corral-wal-race-'));
after(async () => {
  assert.deepEqual(await t.cleanup(), [], 'nothing the test started is left');
  rmSync(dir, { recursive: true, force: true });
});

// Turning a new ledger to WAL needs the file to itself, and SQLite refuses at once (no busy handler)
// while another connection has it open. A `corral run` that made a new home's ledger while a reader
// (corral ps, the dashboard, a test's poll) opened it failed with exit 2, "another process holds a lock".
test('a new ledger made while another process keeps reading it opens all the same', async () => {
  const failures: string[] = [];
  for (let i = 0; i < 20; i++) {
    const path = join(dir, `ledger-${i}.sqlite`);
    const writer = spawn(process.execPath, [join(FIXTURES, 'open-ledger.ts'), path], { stdio: ['ignore', 'ignore', 'pipe'] });
    t.pid(writer.pid);
    let err = '';
    writer.stderr.on('data', (d: Buffer) => (err += d));
    const exited = new Promise<number | null>((resolve) => writer.on('exit', (code) => resolve(code)));
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      try {
        openLedgerToRead(path).close();
      } catch {
        /* a reader meeting a half-made file may fail; the writer must not */
      }
      await new Promise((r) => setImmediate(r));
    }
    const code = await exited;
    if (code !== 0) failures.push(`try ${i}: exit ${code}: ${err.trim()}`);
  }
  assert.deepEqual(failures, []);
});
