import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { readStat } from '../../src/proc/stat.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { jobScript, loseRun, startRun } from './run-kit.ts';

const isRoot = process.getuid?.() === 0;
let t = new Tracker();
afterEach(async () => {
  const left = await t.cleanup();
  t = new Tracker();
  assert.deepEqual(left, [], 'nothing was left for the tracker to kill');
});

const liveCmd = (pid: number) => (readStat(pid)?.state ?? 'Z') !== 'Z';
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

// issue 16 item 1: a reap that leaves alone something it selected must not report "all gone"
test('reap --run exits 3 while a selected process it left alone lives (allow-listed, another uid), listing each once', async () => {
  const home = tempHome();
  // an allow-listed daemon of the run (as ssh-agent was), matched by its whole command line
  writeFileSync(join(home, 'strays-allow.yaml'), "bootGraceSeconds: 0\ncommands: ['^sleep 100001$']\n");
  const other = isRoot ? 'setpriv --reuid=65534 --regid=65534 --clear-groups sleep 100002 &\n' : '';
  const script = jobScript(`setsid sleep 100000 &\nsleep 100001 &\n${other}exec sleep 100000`);
  const token = t.token('left');
  const count = isRoot ? 4 : 3;
  const live = await startRun(t, home, token, [], script, count);
  const pids = await loseRun(t, home, live, count);
  const allowed = pids.find((p) => cmdline(p) === 'sleep 100001')!;
  const otherUid = pids.find((p) => cmdline(p) === 'sleep 100002');
  assert.ok(allowed, 'the allow-listed process is one of the run');
  if (isRoot) assert.equal(statSync(`/proc/${otherUid}`).uid, 65534, "the other user's process is one of the run");

  const expected = [allowed, ...(otherUid ? [otherUid] : [])].sort();
  const listedIn = (out: string) => {
    const section = out.slice(out.indexOf('left alone:'), out.indexOf('reaped') < 0 ? undefined : out.indexOf('reaped'));
    return { section, pids: [...section.matchAll(/^ {2}(\d+) /gm)].map((m) => Number(m[1])).sort() };
  };
  // as strays, the two are both selected and in the subtree of the job's leader: still listed once
  const dry = await runCorral(['reap', '--strays', '--run', 'last', '--dry-run'], { home });
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.deepEqual(listedIn(dry.stdout).pids, expected, `each process left alone is listed once:\n${dry.stdout}`);

  const res = await runCorral(['reap', '--run', 'last', '--yes', '--grace', '1s'], { home });
  assert.equal(res.code, 3, res.stdout + res.stderr);
  assert.match(res.stdout, new RegExp(`${isRoot ? 2 : 1} selected process\\(es\\) left alone are still alive .*exit status 3`));
  const { section: leftAlone, pids: listed } = listedIn(res.stdout);
  assert.deepEqual(listed, expected, 'each process left alone is listed once');
  assert.match(leftAlone, new RegExp(`${allowed} .*allow-listed`));
  if (otherUid) assert.match(leftAlone, new RegExp(`${otherUid} nobody .*--any-user`));
  for (const p of pids.filter((x) => x !== allowed && x !== otherUid)) await waitFor(() => !liveCmd(p), `run process ${p} to be reaped`);
  assert.ok(liveCmd(allowed) && (!otherUid || liveCmd(otherUid)), 'what was left alone still lives');

  // named by pid (and --any-user as root), they are taken: then everything is gone and the status is 0
  const named = await runCorral(['reap', String(allowed), ...(otherUid ? [String(otherUid), '--any-user'] : []), '--yes', '--grace', '1s'], { home });
  assert.equal(named.code, 0, named.stdout + named.stderr);
  assert.deepEqual(t.alive(), []);
});
