import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { startCorral, runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';
import { readStat } from '../../src/proc/stat.ts';
import { visible } from '../../src/cli/output.ts';

// OSC title + BEL, clear screen, conceal, a C1 CSI, DEL, a right-to-left override and an isolate
const EVIL = 'evil\x1b]0;pwned\x07\x1b[2J\x1b[8mhidden\u009b31m\x7f\u202eabc\u2066x';
// what must never reach a terminal: C0 (but newline), DEL, C1, bidi overrides and isolates
// eslint-disable-next-line no-control-regex
// short, so that history's 60-character command column still holds all of it
const RUN_EVIL = '\u202e\u2066\x1b]0;t\x07\u009b2J';
const UNSAFE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

const t = new Tracker();
after(async () => {
  await t.cleanup();
  assert.deepEqual(t.alive(), []);
});

function clean(out: string, what: string): void {
  const m = UNSAFE.exec(out);
  assert.equal(m, null, `${what}: U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${m?.index}: ${JSON.stringify(out.slice(Math.max(0, (m?.index ?? 0) - 40), (m?.index ?? 0) + 10))}`);
}

/** /proc is read byte for byte (latin1): the JSON string's bytes are the argv bytes the process set. */
const sameBytes = (fromProc: string, original: string) => Buffer.from(fromProc, 'latin1').equals(Buffer.from(original, 'utf8'));

test('a stray renamed with escapes and a bidi override: strays, report and reap --dry-run show them escaped; --json keeps the bytes', async () => {
  const home = tempHome();
  const token = t.token('escape');
  // the subshell exits at once: its child is an orphan (a stray) with the hostile argv[0]
  const sh = spawn('bash', ['-c', '(exec -a "$1" sleep 100000) & exit 0', 'bash', EVIL], { stdio: 'ignore', env: { ...process.env, CORRAL_TEST_TOKEN: token } });
  await new Promise((r) => sh.once('exit', r));
  const stray = await waitFor(() => findByToken(token).find((p) => p.cmd.endsWith(' 100000')), 'the renamed orphan');
  t.pid(stray.pid);
  await waitFor(() => readStat(stray.pid)?.ppid !== sh.pid, 'its re-parenting');

  const json = await runCorral(['strays', '--json'], { home });
  assert.equal(json.code, 0, json.stderr);
  const found = (JSON.parse(json.stdout) as { strays: { pid: number; command: string; cmdline?: string[] }[] }).strays?.find((s) => s.pid === stray.pid)
    ?? (JSON.parse(json.stdout) as { pid: number; command: string }[]).find?.((s) => s.pid === stray.pid);
  assert.ok(found, `the stray is in --json: ${json.stdout.slice(0, 300)}`);
  assert.ok(sameBytes(found.command.split(' 100000')[0]!, EVIL), `--json keeps the exact bytes: ${JSON.stringify(found.command)}`);

  const human = await runCorral(['strays'], { home });
  assert.equal(human.code, 0, human.stderr);
  clean(human.stdout, 'strays');
  assert.match(human.stdout, new RegExp(`^${stray.pid} .*evil\\\\e\\]0;pwned\\\\a\\\\e\\[2J\\\\e\\[8mhidden`, 'm'));

  const report = await runCorral(['report'], { home });
  assert.equal(report.code, 0, report.stderr);
  clean(report.stdout, 'report');
  assert.match(report.stdout, new RegExp(`PID ${stray.pid}: `));

  const plan = await runCorral(['reap', String(stray.pid), '--dry-run'], { home });
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  clean(plan.stdout + plan.stderr, 'reap --dry-run');
  assert.match(plan.stdout, new RegExp(`^${stray.pid} .*evil\\\\e\\]0;pwned`, 'm'));
  const planJson = await runCorral(['reap', String(stray.pid), '--dry-run', '--json'], { home });
  const target = (JSON.parse(planJson.stdout) as { plan: { targets: { pid: number; command: string }[] } }).plan.targets.find((x) => x.pid === stray.pid);
  assert.ok(target && sameBytes(target.command.split(' 100000')[0]!, EVIL), `reap --json keeps the bytes: ${planJson.stdout.slice(0, 300)}`);
});

test('a run whose argv holds escapes: ps and history show them escaped; history --json keeps the exact argv', async () => {
  const home = tempHome();
  const token = t.token('escrun');
  const corral = startCorral(['run', '--', 'bash', '-c', 'exec -a "$0" sleep 100000', RUN_EVIL], { home, env: { CORRAL_TEST_TOKEN: token } });
  t.pid(corral.child.pid);
  await waitFor(() => findByToken(token).find((p) => p.cmd.endsWith(' 100000')), 'the renamed job');
  const ps = await runCorral(['ps'], { home });
  assert.equal(ps.code, 0, ps.stderr);
  clean(ps.stdout, 'ps');
  assert.match(ps.stdout, /\\e\]0;t\\a/);
  corral.child.kill('SIGTERM');
  await corral.done;
  const history = await runCorral(['history'], { home });
  assert.equal(history.code, 0, history.stderr);
  clean(history.stdout, 'history');
  assert.ok(history.stdout.includes(`100000' '${visible(RUN_EVIL)}'`), history.stdout); // shell-quoted, then escaped
  assert.ok(history.stdout.includes('\\u202e\\u2066\\e]0;t\\a\\x9b2J'), 'the override, isolate, OSC, BEL and C1 CSI are shown as escapes');
  const hj = await runCorral(['history', '--json'], { home });
  const argv = (JSON.parse(hj.stdout) as { argv: string[] }[])[0]!.argv;
  assert.equal(argv.at(-1), RUN_EVIL, 'the exact string');
});
