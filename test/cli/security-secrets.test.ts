import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLedgerToRead } from '../../src/ledger/db.ts';
import { listRuns } from '../../src/ledger/runs.ts';
import { startCorral, runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const t = new Tracker();
after(async () => {
  await t.cleanup();
  assert.deepEqual(t.alive(), []);
});

/** Every byte corral keeps in its home: the ledger, its -wal and -shm, the logs. */
function homeBytes(home: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !p.endsWith('/job-released')) parts.push(readFileSync(p));
    }
  };
  walk(home);
  return Buffer.concat(parts);
}

function canRead(path: string, uid: number): boolean {
  return spawnSync('cat', [path], { uid, gid: uid, stdio: 'ignore' }).status === 0;
}

test('an environment value is nowhere in the ledger or its WAL, while the run is up and after; only its name is kept', async () => {
  const home = tempHome();
  const secret = `sk-${Math.random().toString(36).slice(2)}-do-not-store`;
  const token = t.token('secret');
  const gate = join(home, 'job-released');
  const corral = startCorral(['run', '--', 'sh', '-c', `while [ ! -e ${gate} ]; do sleep 0.05; done`], { home, env: { MY_API_KEY: secret, CORRAL_TEST_TOKEN: token } });
  t.pid(corral.child.pid);
  await waitFor(() => findByToken(token).some((p) => p.cmd.startsWith('sh -c')), 'the job');
  await waitFor(() => existsSync(join(home, 'ledger.sqlite-wal')), 'the WAL');
  assert.ok(!homeBytes(home).includes(secret), 'the value is not in the ledger, its WAL or shm while the run is up');
  writeFileSync(gate, '');
  const res = await corral.done;
  assert.equal(res.code, 0, res.stderr);
  assert.ok(!homeBytes(home).includes(secret), 'nor after it ended');
  const db = openLedgerToRead(join(home, 'ledger.sqlite'));
  const config = JSON.parse(listRuns(db)[0]!.config!) as { main: { env?: unknown; envNames?: string[] } };
  db.close();
  assert.equal(config.main.env, undefined);
  assert.ok(config.main.envNames?.includes('MY_API_KEY'), 'the name is kept');
});

test('the home is 0700, the ledger and logs 0600 in a 0700 logs dir; another user can read none of them', { skip: !isRoot && 'needs root to try as another user' }, async () => {
  const home = tempHome();
  chmodSync(home, 0o755); // as an older corral or a umask left it: corral tightens it
  const res = await runCorral(['run', '--log', '--', 'sh', '-c', 'echo HF_TOKEN=hf_secret_in_the_log'], { home });
  assert.equal(res.code, 0, res.stderr);
  const mode = (p: string) => statSync(p).mode & 0o777;
  assert.equal(mode(home), 0o700);
  assert.equal(mode(join(home, 'ledger.sqlite')), 0o600);
  assert.equal(mode(join(home, 'logs')), 0o700);
  const logs: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) (e.isDirectory() ? walk : (p: string) => logs.push(p))(join(dir, e.name));
  };
  walk(join(home, 'logs'));
  const jobLog = logs.find((p) => readFileSync(p, 'utf8').includes('hf_secret_in_the_log'));
  assert.ok(jobLog, `the job's log is among ${logs.join(', ')}`);
  for (const p of logs) assert.equal(mode(p), 0o600, p);
  // even with the home opened up again, the files themselves keep others out
  chmodSync(home, 0o711);
  chmodSync(join(home, 'logs'), 0o711);
  assert.ok(!canRead(join(home, 'ledger.sqlite'), NOBODY), 'nobody cannot read the ledger');
  assert.ok(!canRead(jobLog, NOBODY), "nobody cannot read the job's log");
  assert.ok(canRead(join(home, 'ledger.sqlite'), 0), 'the check itself works: root can');
});

test('an existing 0644 ledger and 0755 logs dir are tightened when corral opens them', async () => {
  const home = tempHome();
  assert.equal((await runCorral(['run', '--', 'true'], { home })).code, 0);
  chmodSync(join(home, 'ledger.sqlite'), 0o644);
  chmodSync(join(home, 'logs'), 0o755);
  chmodSync(home, 0o755);
  const res = await runCorral(['history'], { home });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(statSync(join(home, 'ledger.sqlite')).mode & 0o777, 0o600);
  assert.equal(statSync(join(home, 'logs')).mode & 0o777, 0o700);
  assert.equal(statSync(home).mode & 0o777, 0o700);
});
