import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

/*
 * Issue 10 item 5: a repeated item runs once per copy, as in GNU parallel, {#} telling the copies
 * apart; --resume knows a task by its item number and value, so the copy that failed runs again while
 * the copy that succeeded does not (by value alone both would count as done).
 */
it('items a a b: three tasks; --resume runs only the failed second copy of a', async () => {
  const t = new Tracker();
  const env = { CORRAL_TEST_TOKEN: t.token('dup') };
  const home = tempHome();
  const cwd = mkdtempSync(join(tmpdir(), 'corral-dup-'));
  try {
    const script = 'echo {#} {} >> ran.txt; [ {#} != 2 ] || [ -e 2.ok ]';
    const first = await runCorral(['pool', '-q', '--jobs', '2', '--', script, ':::', 'a', 'a', 'b'], { home, env, cwd });
    assert.equal(first.code, 1, first.stderr);
    assert.deepEqual(readFileSync(join(cwd, 'ran.txt'), 'utf8').trim().split('\n').sort(), ['1 a', '2 a', '3 b']);

    writeFileSync(join(cwd, '2.ok'), '');
    writeFileSync(join(cwd, 'ran.txt'), '');
    const second = await runCorral(['pool', '--resume', 'last', '--json'], { home, env, cwd });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(readFileSync(join(cwd, 'ran.txt'), 'utf8'), '2 a\n', 'only the copy that failed ran again');
    assert.equal(JSON.parse(second.stdout).counts.doneBefore, 2);
  } finally {
    await waitFor(() => t.alive().length === 0, 'the pool to be gone', 5000).catch(() => {});
    assert.deepEqual(await t.cleanup(), []);
  }
});

it('a pool file may repeat an item; each copy is a task of its own', async () => {
  const t = new Tracker();
  const cwd = mkdtempSync(join(tmpdir(), 'corral-dup-file-'));
  writeFileSync(join(cwd, 'items.txt'), 'x\nx\n');
  writeFileSync(join(cwd, 'pool.yaml'), 'jobs: 2\nitems: {file: items.txt}\nstages:\n  - run: echo {#} {} >> ran.txt\n');
  try {
    const r = await runCorral(['pool', '-q', join(cwd, 'pool.yaml')], { home: tempHome(), env: { CORRAL_TEST_TOKEN: t.token('dupf') } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(join(cwd, 'ran.txt'), 'utf8').trim().split('\n').sort(), ['1 x', '2 x']);
  } finally {
    await waitFor(() => t.alive().length === 0, 'the pool to be gone', 5000).catch(() => {});
    assert.deepEqual(await t.cleanup(), []);
  }
});
