import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

/*
 * Issue 10 item 5: `corral show RUN` lists per task its stage, attempts and how each ended, duration,
 * GPU and log path, from the ledger, through the real binary; --json gives the same with exact strings.
 */
describe('corral show', () => {
  const home = tempHome();
  const t = new Tracker();
  let runId = '';
  before(async () => {
    const d = mkdtempSync(join(tmpdir(), 'corral-show-'));
    const file = join(d, 'pool.yaml');
    writeFileSync(file, [
      'name: show-me',
      'gpus: [900, 901]',
      'preflight: ignore',
      'items: [ok, bad, slow, "esc\\e[2J"]',
      'stages:',
      '  - name: first',
      '    run: "case {} in bad) echo broken >&2; exit 3;; slow) sleep 5;; esac"',
      '    retries: 1',
      '    backoff: 10ms',
      '    timeout: 1s',
      '  - name: second',
      '    needs: [first]',
      '    run: "true"',
      '',
    ].join('\n'));
    const r = await runCorral(['pool', '-q', file], { home, env: { CORRAL_TEST_TOKEN: t.token('show') } });
    assert.equal(r.code, 1, r.stderr);
    runId = /run (\S+) failed/.exec(r.stderr)![1]!;
  });
  after(async () => {
    await waitFor(() => t.alive().length === 0, 'the pool to be gone', 5000).catch(() => {});
    assert.deepEqual(await t.cleanup(), []);
  });

  it('--json: stage, item number, attempts and how each ended, GPU and log of every task', async () => {
    const r = await runCorral(['show', 'show-me', '--json'], { home });
    assert.equal(r.code, 0, r.stderr);
    const run = JSON.parse(r.stdout);
    assert.equal(run.id, runId);
    assert.equal(run.status, 'failed');
    const by = new Map<string, any>(run.tasks.map((x: any) => [x.name, x]));
    assert.deepEqual([...by.keys()].sort(), ['first.1', 'first.2', 'first.3', 'first.4', 'second.1', 'second.2', 'second.3', 'second.4']);
    const bad = by.get('first.2');
    assert.equal(bad.stage, 'first');
    assert.equal(bad.itemNumber, 2);
    assert.equal(bad.state, 'failed');
    assert.deepEqual(bad.attempts.map((a: any) => a.ended), ['exit 3', 'exit 3']);
    assert.match(bad.logPath, new RegExp(`${runId}/first\\.2\\.log$`));
    assert.ok(['900', '901'].includes(bad.gpu));
    assert.ok(bad.durationMs >= 0);
    assert.deepEqual(by.get('first.3').attempts.map((a: any) => a.ended), ['timed out', 'timed out']);
    assert.equal(by.get('second.2').state, 'skipped');
    assert.equal(by.get('second.2').attempts.length, 0);
    assert.equal(by.get('first.4').item, 'esc\x1b[2J', '--json keeps the exact string');
  });

  it('human output: one row per task with how each attempt ended, the GPU and the log; escapes shown', async () => {
    const r = await runCorral(['show', runId.slice(0, 20)], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${runId} show-me  pool, failed \\(exit status 1\\)`));
    assert.match(r.stdout, /first\.2 +first +bad +failed +1: exit 3 \(\S+\), 2: exit 3 \(\S+\) +\S+ +90[01] +\S+first\.2\.log/);
    assert.match(r.stdout, /first\.3 +first +slow +failed +1: timed out \(\S+\), 2: timed out/);
    assert.match(r.stdout, /second\.2 +second +bad +skipped +none \(needs first\.2\)/);
    assert.ok(!r.stdout.includes('\x1b'), 'no raw escape reaches the terminal');
    assert.match(r.stdout, /esc\\e\[2J/);
  });

  it('an unknown run exits 2 and names it', async () => {
    const r = await runCorral(['show', 'nope'], { home });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no run 'nope' in the ledger/);
  });
});
