import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

/* What a pool says when things go wrong, through the real binary (issue 10 item 4). */
const t = new Tracker();
after(async () => {
  await waitFor(() => t.alive().length === 0, 'every task to be gone', 10_000).catch(() => {});
  assert.deepEqual(await t.cleanup(), [], 'nothing was left to force-kill');
});

describe('pool messages', { concurrency: 3 }, () => {
  it('a retry says how the attempt ended and what the limit was', async () => {
    const token = t.token('pretry');
    const r = await runCorral(['pool', '--jobs', '1', '--timeout', '500ms', '--retries', '1', '--backoff', '1500ms', '--', 'sh', '-c', `sleep 30; : ${token}`, ':::', 'a'], { home: tempHome() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^retry task\.1 \(a\): attempt 1 timed out \(limit 500ms\); attempt 2 in 1\.5s$/m);
    assert.match(r.stderr, /FAILED task\.1 \(a\): timed out after \S+, 2 attempts/);
  });

  it("a FAILED line shows the last lines of the task's log: bounded, escaped", async () => {
    const token = t.token('ptail');
    // all on stderr, one pipe: the order in the log is the order written
    const script = `: ${token}; i=0; while [ $i -lt 50 ]; do echo out$i >&2; i=$((i+1)); done; printf '\\033[2Jboom\\n' >&2; exit 3`;
    const r = await runCorral(['pool', '--jobs', '1', '--', 'sh', '-c', script, ':::', 'a'], { home: tempHome() });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.split('\n');
    const at = lines.findIndex((l) => /FAILED task\.1 \(a\): exit 3 after/.test(l));
    assert.ok(at >= 0, r.stderr);
    const tail = lines.slice(at + 1).filter((l) => l.startsWith('  | '));
    assert.equal(tail.length, 3, `three lines of the log:\n${r.stderr}`);
    assert.deepEqual(tail, ['  | out48', '  | out49', '  | \\e[2Jboom'], "the last three lines; the job's escape is shown, not obeyed");
    assert.doesNotMatch(r.stderr, /\x1b/);
  });

  it('an interrupted pool still shows which tasks timed out (stopped while waiting to retry)', async () => {
    const token = t.token('pint');
    const c = startCorral(['pool', '--jobs', '2', '--timeout', '500ms', '--retries', '1', '--backoff', '30s', '--', 'sh', '-c', `sleep 30; : ${token}`, ':::', 'a', 'b'], { home: tempHome() });
    t.pid(c.child.pid);
    await waitFor(() => (c.output().match(/^retry /gm) ?? []).length === 2, 'both tasks to time out and wait to retry', 20_000);
    c.child.kill('SIGINT');
    const r = await c.done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /stage\s+ok\s+failed\s+timed out\s+skipped\s+not run\s+done before\s+mean time\ntask\s+0\s+0\s+2\s+0\s+2\s+0/);
    assert.match(r.stderr, /task\.1 \(a\)\s+-\s+stopped \(interrupted, after attempt 1 timed out\)\s+1/);
    assert.match(r.stderr, /task\.2 \(b\)\s+-\s+stopped \(interrupted, after attempt 1 timed out\)\s+1/);
  });
});
