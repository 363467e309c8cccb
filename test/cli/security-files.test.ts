import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, closeSync, linkSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openForAppend, openForCreate, UnsafePathError } from '../../src/os/safe-open.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const dir = () => mkdtempSync(join(tmpdir(), 'corral-files-'));

// The attack of issue 9 item 3: a user plants a link where root writes its report.
test('report --out refuses a symbolic link: the 0600 file it points at is untouched', async () => {
  const d = dir();
  const target = join(d, 'authorized_keys');
  writeFileSync(target, 'ssh-ed25519 AAAA root-key\n', { mode: 0o600 });
  const link = join(d, 'report.md');
  symlinkSync(target, link);
  for (const extra of [[], ['--force']]) {
    const res = await runCorral(['report', '--user', 'nosuchuser-xyz', '--out', link, ...extra], { home: tempHome() });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, new RegExp(`refusing to write ${link}: it is a symbolic link, which is never followed`));
    assert.equal(readFileSync(target, 'utf8'), 'ssh-ed25519 AAAA root-key\n', `${extra.join(' ')}: the target is as it was`);
  }
});

test('report --out creates a new 0600 file, refuses an existing one, and --force replaces a file of ours', async () => {
  const d = dir();
  const out = join(d, 'r.md');
  const home = tempHome();
  let res = await runCorral(['report', '--user', 'nosuchuser-xyz', '--out', out], { home });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  writeFileSync(out, 'old');
  res = await runCorral(['report', '--user', 'nosuchuser-xyz', '--out', out], { home });
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /the file already exists\n {2}fix: add --force to replace it/);
  assert.equal(readFileSync(out, 'utf8'), 'old');
  res = await runCorral(['report', '--user', 'nosuchuser-xyz', '--out', out, '--force'], { home });
  assert.equal(res.code, 0, res.stderr);
  assert.match(readFileSync(out, 'utf8'), /^# /);
});

test('openForCreate with force refuses a file another user owns, a hard link, a FIFO; nothing is truncated', { skip: !isRoot && 'needs root to make a file of another user' }, () => {
  const d = dir();
  const theirs = join(d, 'theirs');
  writeFileSync(theirs, 'keep');
  chownSync(theirs, NOBODY, NOBODY);
  assert.throws(() => openForCreate(theirs, { force: true }), (e: unknown) => e instanceof UnsafePathError && /owned by uid 65534/.test(e.message));
  assert.equal(readFileSync(theirs, 'utf8'), 'keep');
  const mine = join(d, 'mine');
  writeFileSync(mine, 'keep');
  linkSync(mine, join(d, 'second-name'));
  assert.throws(() => openForCreate(mine, { force: true }), /other hard links/);
  assert.equal(readFileSync(mine, 'utf8'), 'keep');
  const fifo = join(d, 'fifo');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => openForCreate(fifo, { force: true }), /not a regular file/);
});

test('openForAppend appends to a file of ours, creates 0600, and refuses a link, a file of another user, a FIFO', { skip: !isRoot && 'needs root to make a file of another user' }, () => {
  const d = dir();
  const log = join(d, 'job.log');
  let fd = openForAppend(log);
  writeSync(fd, 'one\n');
  closeSync(fd);
  fd = openForAppend(log);
  writeSync(fd, 'two\n');
  closeSync(fd);
  assert.equal(readFileSync(log, 'utf8'), 'one\ntwo\n');
  assert.equal(statSync(log).mode & 0o777, 0o600);
  const etc = join(d, 'passwd');
  writeFileSync(etc, 'root:x:0:0\n');
  symlinkSync(etc, join(d, 'evil.log'));
  assert.throws(() => openForAppend(join(d, 'evil.log')), /symbolic link, which is never followed\n?/);
  assert.equal(readFileSync(etc, 'utf8'), 'root:x:0:0\n');
  const theirs = join(d, 'theirs.log');
  writeFileSync(theirs, '');
  chownSync(theirs, NOBODY, NOBODY);
  assert.throws(() => openForAppend(theirs), /owned by uid 65534/);
  const fifo = join(d, 'fifo.log');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => openForAppend(fifo), /not a regular file/);
});
