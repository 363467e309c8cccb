import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { displayWidth } from '../../src/ui/width.ts';

/* Messages that answer the next question, through the real binary (issue 10 item 4). */
const t = new Tracker();
after(async () => {
  await waitFor(() => t.alive().length === 0, 'every job to be gone', 10_000).catch(() => {});
  assert.deepEqual(await t.cleanup(), [], 'nothing was left to force-kill');
});

const COMMANDS = ['run', 'pool', 'ps', 'show', 'history', 'logs', 'strays', 'report', 'reap', 'stop', 'gpus'];

describe('errors and -q on every command', { concurrency: 4 }, () => {
  it("commander's own errors carry the corral: prefix (unknown option, unknown command, missing value), exit 2", async () => {
    const home = tempHome();
    for (const cmd of COMMANDS) {
      const r = await runCorral([cmd, '--no-such-flag'], { home });
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /^corral: error: unknown option '--no-such-flag'/, cmd);
    }
    const unknown = await runCorral(['bogus'], { home });
    assert.match(unknown.stderr, /^corral: error: unknown command 'bogus'/);
    const missing = await runCorral(['history', '-n'], { home });
    assert.match(missing.stderr, /^corral: error: option '-n, --limit <n>' argument missing/);
    assert.equal(missing.code, 2);
  });

  it('-q is accepted by every command', async () => {
    const home = tempHome();
    for (const cmd of COMMANDS) {
      const r = await runCorral([cmd, '-q', '--help'], { home });
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout, /-q, --quiet/, cmd);
    }
  });

  it('-q silences corral\'s lines: report --out says nothing, and says where it wrote without -q', async () => {
    const home = tempHome();
    const dir = mkdtempSync(join(tmpdir(), 'corral-msg-'));
    // a read-only scan: nothing is signalled
    const args = ['report', '--out'];
    const said = await runCorral([...args, join(dir, 'b.md')], { home });
    assert.equal(said.code, 0, said.stderr);
    assert.match(said.stderr, /^corral: report on \d+ stray\(s\) written to/);
    const quiet = await runCorral([...args, join(dir, 'c.md'), '-q'], { home });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('corral run says how things ended', { concurrency: 2 }, () => {
  it('a job killed by SIGKILL: "killed by SIGKILL (exit status 137)", not "exited, exit status 137"', async () => {
    const token = t.token('kill9');
    const r = await runCorral(['run', '--', 'sh', '-c', `: ${token}; kill -9 $$`], { home: tempHome() });
    assert.equal(r.code, 137);
    assert.match(r.stderr, /ended: killed by SIGKILL \(exit status 137\)/);
    assert.doesNotMatch(r.stderr, /exited, exit status/);
  });

  it('a restart says how the attempt ended and its limit; the log separator too; one duration format', async () => {
    const token = t.token('retry');
    const dir = mkdtempSync(join(tmpdir(), 'corral-msg-'));
    const log = join(dir, 'job.log');
    const r = await runCorral(['run', '--log', log, '--timeout', '700ms', '--restart', 'on-failure', '--max-restarts', '1', '--restart-delay', '1500ms', '--', 'sh', '-c', `echo started; sleep 30; : ${token}`], { home: tempHome() });
    assert.equal(r.code, 124, r.stderr);
    assert.match(r.stderr, /job main: attempt 1 timed out \(limit 700ms\); restarts in 1\.5s \(attempt 2\)/);
    assert.doesNotMatch(r.stderr, /\d{4,}ms/, 'no raw millisecond counts');
    assert.match(r.stderr, /ended: timed out \(exit status 124\)/);
    assert.match(readFileSync(log, 'utf8'), /^started\n--- corral: attempt 2 --- \(attempt 1 timed out \(limit 700ms\)\)\nstarted\n/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('history', () => {
  it('shows local time, shell-quotes commands and marks what it cut to fit the window ($COLUMNS on a pipe)', async () => {
    const home = tempHome();
    assert.equal((await runCorral(['run', '--', 'sh', '-c', 'exit 0', 'x', 'a b', "it's"], { home })).code, 0);
    assert.equal((await runCorral(['run', '--', 'echo', 'x'.repeat(100)], { home })).code, 0);
    const json = JSON.parse((await runCorral(['history', '--json'], { home })).stdout) as { startedAt: string }[];
    const r = await runCorral(['history'], { home, env: { TZ: 'Asia/Tokyo', COLUMNS: '150' } });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /STARTED \(GMT\+9\)/);
    // Tokyo is UTC+9 all year: the time shown is the ledger's UTC time plus nine hours
    const tokyo = new Date(Date.parse(json[1]!.startedAt) + 9 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
    assert.ok(lines[2]!.includes(tokyo), `${tokyo} in ${lines[2]}`);
    assert.ok(lines[2]!.includes(`run -- sh -c 'exit 0' x 'a b' 'it'\\''s'`), lines[2]);
    const cut = lines[1]!.slice(lines[1]!.indexOf('run -- echo'));
    assert.match(cut, /^run -- echo x+…$/, 'a long command ends with the cut mark');
    assert.equal(displayWidth(lines[1]!), 149, 'the row fills the window but its last column');
    const whole = await runCorral(['history'], { home, env: { COLUMNS: undefined } });
    assert.ok(whole.stdout.includes(`echo ${'x'.repeat(100)}\n`), 'to a pipe without COLUMNS nothing is cut');
  });
});
