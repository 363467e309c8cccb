import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

const BAD: [string[], RegExp][] = [
  [['run', '--grace', 'soon', '--', 'true'], /invalid --grace 'soon'[\s\S]*500ms, 90s/],
  [['run', '--timeout', '0', '--', 'true'], /--timeout must be more than 0/],
  [['run', '--stop-signal', 'TREM', '--', 'true'], /unknown signal 'TREM'[\s\S]*did you mean SIGTERM/],
  [['run', '--restart', 'sometimes', '--', 'true'], /argument 'sometimes' is invalid[\s\S]*no, on-failure, always/],
  [['run', '--max-restarts', 'many', '--', 'true'], /--max-restarts must be a whole number/],
  [['run', '--gpus', '3-1', '--', 'true'], /invalid --gpus '3-1'/],
  [['run', '--sidecar', ' ', '--', 'true'], /--sidecar 1 is empty/],
  [['run', '--bogus', '--', 'true'], /unknown option '--bogus'/],
  [['run'], /missing required argument 'command'/],
  [['frobnicate'], /unknown command 'frobnicate'/],
  [['history', '--limit', 'x'], /--limit must be a whole number/],
  [['history', '-n', '99999999999'], /--limit must be a whole number from 1 to 1000000, got '99999999999'/],
];

test('bad usage exits 2 with a message that names the problem and the fix, and writes nothing', async () => {
  for (const [args, message] of BAD) {
    const home = tempHome();
    const res = await runCorral(args, { home });
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, message, args.join(' '));
    if (args[0] === 'run') assert.deepEqual(readdirSync(home), [], `${args.join(' ')} wrote to the ledger`);
  }
});

test("a newcomer's first run: output on the terminal, the job's exit status, the run in the ledger", async () => {
  const home = tempHome();
  const ok = await runCorral(['run', '--', 'python3', '-c', 'print("hello from the job")'], { home });
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout, 'hello from the job\n', 'stdio is inherited: the job writes straight to our stdout');
  assert.match(ok.stderr, /containment (cgroup2|no cgroup)/);
  assert.equal((await runCorral(['run', '-q', '--', 'sh', '-c', 'exit 42'], { home })).code, 42);
  assert.equal((await runCorral(['run', '-q', '--', 'sh', '-c', 'kill -KILL $$'], { home })).code, 137, '128 + SIGKILL');
  assert.equal((await runCorral(['run', '-q', '--', 'no-such-command-here'], { home })).code, 127);
  assert.equal((await runCorral(['run', '-q', '--', '/etc/passwd'], { home })).code, 126);
  const db = openLedger(join(home, 'ledger.sqlite'));
  const runs = db.prepare('SELECT status, exit_code FROM runs ORDER BY rowid').all() as { status: string; exit_code: number }[];
  db.close();
  assert.deepEqual(runs.map((r) => r.exit_code), [0, 42, 137, 127, 126]);
  assert.equal(runs[0]!.status, 'succeeded');
});

test('ps shows a live run as a process tree; history and logs show it afterwards', async () => {
  const t = new Tracker();
  const home = tempHome();
  const token = t.token('ps');
  try {
    const corral = startCorral(['run', '--name', 'demo', '--log', '--', 'sh', '-c', `echo started; sleep 30 & wait`, token], { home, env: { CORRAL_TEST_TOKEN: token } });
    t.pid(corral.child.pid);
    const runs = await waitFor(async () => {
      const res = await runCorral(['ps', '--json'], { home });
      const parsed = JSON.parse(res.stdout) as { id: string; name: string; jobs: { name: string; processes: { pid: number; command: string; children: { command: string }[] }[] }[] }[];
      return parsed[0]?.jobs[0]?.processes[0]?.children.length ? parsed : null;
    }, 'ps to show the job tree');
    assert.equal(runs[0]!.name, 'demo');
    const root = runs[0]!.jobs[0]!.processes[0]!;
    assert.match(root.command, new RegExp(token));
    assert.equal(root.children[0]!.command, 'sleep 30');
    const text = await runCorral(['ps'], { home });
    assert.match(text.stdout, /demo\s+run, up/);
    assert.match(text.stdout, /└ sleep 30/);
    corral.child.kill('SIGTERM');
    assert.equal((await corral.done).code, 143);
    const hist = JSON.parse((await runCorral(['history', '--json'], { home })).stdout) as { id: string; status: string; stopReason: string; exitCode: number }[];
    assert.equal(hist[0]!.status, 'interrupted');
    assert.equal(hist[0]!.stopReason, 'signal');
    assert.equal(hist[0]!.exitCode, 143);
    const logs = await runCorral(['logs', 'last'], { home });
    assert.equal(logs.stdout, 'started\n');
    assert.equal((await runCorral(['logs', 'nope'], { home })).code, 2);
    assert.equal((await runCorral(['ps'], { home })).stdout, 'no live runs\n');
  } finally {
    assert.deepEqual(await t.cleanup(), []);
  }
});

test('--help lists the commands with examples, and NO_COLOR output has no escape codes', async () => {
  const res = await runCorral(['--help']);
  assert.equal(res.code, 0);
  for (const word of ['run', 'ps', 'history', 'logs', 'Examples:', 'Exit status']) assert.match(res.stdout, new RegExp(word));
  assert.doesNotMatch(res.stdout + res.stderr, /\x1b\[/);
  const run = await runCorral(['run', '--help']);
  assert.match(run.stdout, /--max-runtime/);
  assert.match(run.stdout, /corral run --restart always/);
});
