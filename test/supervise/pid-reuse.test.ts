import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../helpers/corral.ts';
import { skipOrFail } from '../helpers/skip.ts';

/*
 * A reused pid must not make corral kill an unrelated session (issue 8.3). pid_max is 32768 on many
 * machines and pids wrap in minutes under load; here the reuse is forced inside a private pid namespace
 * (ns_last_pid), whose pid 1 is the scenario script: everything it starts dies with the namespace.
 */
async function scenario(mode: 'live' | 'lost'): Promise<Record<string, unknown>> {
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, join(FIXTURES, 'pid-reuse-scenario.ts'), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const line = out.trim().split('\n').pop() ?? '';
  assert.equal(code, 0, `scenario ${mode} failed: ${err}`);
  return JSON.parse(line) as Record<string, unknown>;
}

const root = process.getuid?.() === 0;

for (const mode of ['live', 'lost'] as const) {
  test(`${mode === 'live' ? "a live teardown's grace period" : "reap --run of a lost run"}: an unrelated session on the dead leader's pid is never signalled`, async (ctx) => {
    if (!root) return skipOrFail(ctx, 'needs root for a pid namespace and ns_last_pid');
    const r = await scenario(mode);
    assert.equal(r.reused, true, 'the unrelated session got the leader pid');
    if (mode === 'live') assert.equal(r.duringTeardown, true, 'while the teardown was still in its grace period');
    assert.equal(r.witnessTerms, 0, 'it received no stop signal');
    assert.equal(r.witnessAlive, true, 'it is alive');
    assert.equal(r.membersLeft, 0, "the job's own member outside the session is gone");
    if (mode === 'lost') assert.equal(r.reapStatus, 0);
  });
}
