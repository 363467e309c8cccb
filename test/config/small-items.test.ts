import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseSignal } from '../../src/config/signals.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { makeTempDir, writePool } from './temp-pool.ts';

/* Issue 9 item 12: a stop signal that cannot end a process is refused; a YAML alias in an item field is its value. */
const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), []));

test('signals that suspend or are ignored are refused as a stop signal; KILL, TERM, INT, HUP, USR1 are not', () => {
  for (const s of ['STOP', 'SIGTSTP', 'ttin', 'TTOU', 'CONT', 'CHLD', 'WINCH', 'URG', '19', '18']) {
    assert.throws(() => parseSignal(s), { name: 'UsageError', message: /expected a signal that ends a process, found SIG[A-Z]+: it (suspends|is ignored)/ }, s);
  }
  for (const s of ['KILL', 'TERM', 'INT', 'HUP', 'USR1', 'QUIT', '9']) assert.ok(parseSignal(s));
});

for (const [label, args] of [
  ['run', ['run', '--stop-signal', 'STOP', '--', 'true']],
  ['pool flag', ['pool', '--jobs', '1', '--stop-signal', 'cont', '--', 'true', ':::', 'a']],
  ['pool file', [writePool('jobs: 1\nitems: [a]\nstages:\n  - run: "true"\n    stop_signal: WINCH\n')]],
] as const) {
  test(`${label}: a non-stopping stop signal exits 2 before anything starts`, async () => {
    const home = tempHome();
    const res = await runCorral(label === 'pool file' ? ['pool', ...args] : [...args], { home });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /expected a signal that ends a process, found SIG(STOP|CONT|WINCH)/);
    if (label === 'pool file') assert.match(res.stderr, /pool\.yaml:5:18: stages\[0\]\.stop_signal/);
    assert.deepEqual(readdirSync(home), [], 'no ledger, no logs');
  });
}

test('a YAML alias inside an item field is the aliased value in the task, not {"source": ...}', async () => {
  const out = makeTempDir();
  const file = writePool(
    'jobs: 1\nitems:\n  - {n: 1, ckpts: [&l7 layer7.pt, b.pt], opt: &o {lr: 0.1}}\n  - {n: 2, ckpts: [*l7], opt: *o}\n' +
      `stages:\n  - run: printf %s {ckpts}/{opt} > ${out}/{n}\n`,
  );
  const home = tempHome();
  const res = await runCorral(['pool', '-q', file], { home, env: { CORRAL_TEST_TOKEN: t.token('alias') } });
  await waitFor(() => t.alive().length === 0, 'the pool to end', 5000);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(readFileSync(join(out, '1'), 'utf8'), '["layer7.pt","b.pt"]/{"lr":0.1}');
  assert.equal(readFileSync(join(out, '2'), 'utf8'), '["layer7.pt"]/{"lr":0.1}');
});
