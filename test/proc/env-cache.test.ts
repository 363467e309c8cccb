import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { EnvCache, envArea } from '../../src/proc/env-cache.ts';
import { takeSnapshot } from '../../src/proc/snapshot.ts';
import { readProcText } from '../../src/proc/stat.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), []));

test('envArea is the env_start/env_end pair of a stat line, undefined where the kernel hides it', () => {
  const fields = Array.from({ length: 49 }, (_, i) => String(i + 3));
  const line = (a: string, b: string) => `42 (a b) c) ${fields.slice(0, 47).join(' ')} ${a} ${b} 0\n`;
  assert.equal(envArea(line('140000', '140900')), '140000 140900');
  assert.equal(envArea(line('0', '0')), undefined);
  assert.ok(new EnvCache().usable, 'this kernel shows fields 50 and 51');
  assert.ok(envArea(readProcText('/proc/self/stat')!));
});

test('the guard keeps a process environment facts across snapshots, re-reads them after an exec, forgets the gone', async () => {
  const token = t.token('envcache');
  // sh waits for a line, then execs into a program with a marker: same pid and starttime, a new environment
  const child = spawn('sh', ['-c', `read line; exec env CORRAL_RUN_ID=${token} sleep 60`, token], { env: { ...process.env, CORRAL_RUN_ID: 'before-exec' }, stdio: ['pipe', 'ignore', 'ignore'] });
  t.pid(child.pid);
  const pid = child.pid!;
  const cache = new EnvCache();
  const first = await waitFor(() => takeSnapshot({ envCache: cache }).get(pid), 'the child in a snapshot');
  assert.equal(first.env?.runId, 'before-exec');
  const again = takeSnapshot({ envCache: cache }).get(pid)!;
  assert.equal(again.env, first.env, 'the same facts, not read again');

  child.stdin!.end('go\n');
  await waitFor(() => takeSnapshot({ envCache: cache }).get(pid)?.comm === 'sleep', 'the exec into sleep');
  const after = takeSnapshot({ envCache: cache }).get(pid)!;
  assert.equal(after.starttime, first.starttime, 'exec keeps pid and starttime');
  assert.equal(after.env?.runId, token, 'the new environment, read again');

  assert.ok(cache.knows(pid));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(takeSnapshot({ envCache: cache }).get(pid), undefined);
  assert.equal(cache.knows(pid), false, 'a gone process is forgotten');
});
