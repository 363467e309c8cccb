import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { RUN_ID_RE, newRunId } from '../../src/ledger/ids.ts';
import { resolveRef } from '../../src/ledger/refs.ts';
import { insertRun } from '../../src/ledger/runs.ts';
import { runIdFromCgroup } from '../../src/strays/attribution.ts';
import { ROOT } from '../helpers/corral.ts';
import { skipOrFail } from '../helpers/skip.ts';

/* Issue 9 item 12: run ids carry 65 random bits, so runs of one second in any number of ledgers never collide. */
const SECOND = new Date(Date.UTC(2026, 10, 23, 11, 18, 0));

test('ids of one second: the time prefix, then 13 base32 digits, all distinct over 200,000 ids', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200_000; i++) seen.add(newRunId(SECOND));
  assert.equal(seen.size, 200_000, 'with 16 random bits this many ids of one second collide thousands of times');
  for (const id of [...seen].slice(0, 1000)) {
    assert.match(id, /^20261123-111800-[0-9a-hjkmnp-tv-z]{13}$/);
    assert.match(id, RUN_ID_RE);
  }
});

test('every random digit is used: the bits are not stuck', () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) for (const ch of newRunId(SECOND).slice(16)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  assert.equal(counts.size, 32);
  for (const [ch, n] of counts) assert.ok(n > 20_000 * 13 / 32 * 0.8, `digit ${ch} appears ${n} times`);
});

test('ids still sort by time, and the old 4-hex format still parses', () => {
  assert.ok(newRunId(new Date(Date.UTC(2026, 0, 1))) < newRunId(new Date(Date.UTC(2026, 0, 2))));
  assert.match('20261123-111800-a3f9', RUN_ID_RE);
  assert.doesNotMatch('20261123-111800-a3f', RUN_ID_RE);
});

test('a new id is found by a prefix and attributed from its cgroup, beside an old-format id', () => {
  const db = openLedger(join(mkdtempSync(join(tmpdir(), 'corral-ids-')), 'ledger.sqlite'));
  const id = newRunId(SECOND);
  // an old-format id of the same second whose first random digit differs from the new one's (no 1-in-32 flake)
  const old = `20261123-111800-${id[16] === 'a' ? 'b' : 'a'}3f9`;
  for (const [i, rid] of [id, old].entries()) {
    insertRun(db, {
      id: rid, kind: 'run', name: null, argv: '[]', cwd: null, uid: 0, user: 'root', host: 'h', supervisor_pid: null, supervisor_starttime: null,
      config: null, started_at: i, boot_id: 'b', start_ticks: i,
    });
  }
  assert.equal(resolveRef(db, id.slice(0, 18)).run.id, id);
  assert.equal(resolveRef(db, old.slice(0, 17)).run.id, old);
  db.close();
  assert.deepEqual(runIdFromCgroup(`/user.slice/corral-${id}/${id}.main`), { runId: id, jobId: `${id}.main` });
  assert.deepEqual(runIdFromCgroup('/corral-20261123-111800-a3f9'), { runId: '20261123-111800-a3f9', jobId: undefined });
});

test('ids take their random bits from /dev/urandom only when it is a character device: a plain file there (zeros) is not used', (t) => {
  if (spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'true']).status !== 0) return skipOrFail(t, 'cannot make a mount namespace (unshare -m) here');
  const dir = mkdtempSync(join(tmpdir(), 'corral-urandom-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'zeros'), Buffer.alloc(65536));
  const print = `import { newRunId } from './src/ledger/ids.ts'; console.log(newRunId(), newRunId())`;
  const idsWith = (device: string) => {
    // the bind mount exists only in this private mount namespace, for this one process
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$1" /dev/urandom && shift && exec "$@"', 'sh', device, process.execPath, '--input-type=module', '-e', print], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split(' ').map((id) => id.slice(16));
  };
  const [a, b] = idsWith(join(dir, 'zeros'));
  assert.notEqual(a, '0000000000000', 'the zeros of a plain file became the run id');
  assert.notEqual(a, b);
  const [c, d] = idsWith('/dev/urandom');
  assert.notEqual(c, d, 'the real device still serves');
});
