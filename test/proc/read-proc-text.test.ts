import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readProcText } from '../../src/proc/stat.ts';
import { skipOrFail } from '../helpers/skip.ts';

const STAT = new URL('../../src/proc/stat.ts', import.meta.url).pathname;

/** read(2) calls a fresh Node makes while it reads /proc/self/stat `times` times with readProcText. */
function countReads(times: number, dir: string): number {
  const out = join(dir, `trace-${times}`);
  const code = `const { readProcText } = await import(${JSON.stringify(STAT)}); for (let i = 0; i < ${times}; i++) if (!readProcText('/proc/self/stat')) process.exit(3);`;
  const r = spawnSync('strace', ['-f', '-c', '-e', 'trace=read', '-o', out, process.execPath, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const row = readFileSync(out, 'utf8').split('\n').find((l) => /\sread$/.test(l.trim()));
  assert.ok(row, 'strace counted the reads');
  return Number(row.trim().split(/\s+/)[3]);
}

// Teardowns and scans read the stat of every process, often several times per job: a record file of
// /proc hands its whole text to the first read, so the read that would only return end-of-file is left out.
test('a /proc stat file is read with one read(2), not two', (ctx) => {
  if (spawnSync('strace', ['-V']).status !== 0) return skipOrFail(ctx, 'strace is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'corral-reads-'));
  try {
    const base = countReads(0, dir);
    const n = 400;
    const extra = countReads(n, dir) - base;
    // one read per file; a little slack for the module loader and the runtime's own reads
    assert.ok(extra >= n && extra < n * 1.25, `${extra} reads for ${n} files`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what the shortcut skips is only the end of file: long cmdlines and environments are read whole', () => {
  const self = readProcText('/proc/self/stat')!;
  assert.match(self, new RegExp(`^${process.pid} \\(`));
  assert.ok(self.endsWith('\n'));
  // environ is NUL-separated: it never ends a line, so it is read to the end as before
  const env = readProcText(`/proc/${process.pid}/environ`)!;
  assert.equal(env, readFileSync(`/proc/${process.pid}/environ`, 'latin1'));
});
