import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readProcText } from '../../src/proc/stat.ts';
import { skipOrFail } from '../helpers/skip.ts';

const STAT = new URL('../../src/proc/stat.ts', import.meta.url).pathname;

/** read(2) calls a fresh Node makes while it reads /proc/self/`file` `times` times with readProcText. */
function countReads(file: string, times: number, dir: string): number {
  const out = join(dir, `trace-${file}-${times}`);
  const code = `const { readProcText } = await import(${JSON.stringify(STAT)}); for (let i = 0; i < ${times}; i++) if (!readProcText('/proc/self/${file}')) process.exit(3);`;
  const r = spawnSync('strace', ['-f', '-c', '-e', 'trace=read', '-o', out, process.execPath, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const row = readFileSync(out, 'utf8').split('\n').find((l) => /\sread$/.test(l.trim()));
  assert.ok(row, 'strace counted the reads');
  return Number(row.trim().split(/\s+/)[3]);
}

// Teardowns and scans read stat, cmdline, cgroup and environ of every process, often several times per
// job: these /proc files fill a read to their end, so the read that would only return end-of-file is left out.
test('a /proc stat, cmdline, cgroup or environ file is read with one read(2), not two', (ctx) => {
  if (spawnSync('strace', ['-V']).status !== 0) return skipOrFail(ctx, 'strace is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'corral-reads-'));
  try {
    const n = 400;
    for (const file of ['stat', 'cmdline', 'cgroup', 'environ']) {
      const extra = countReads(file, n, dir) - countReads(file, 0, dir);
      // one read per file (two would give about 2n); slack both ways, since the runtime's own reads
      // differ by a few between two starts (399 for 400 files was seen once)
      assert.ok(extra > n * 0.9 && extra < n * 1.25, `${file}: ${extra} reads for ${n} files`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what the shortcut skips is only the end of file: environments and command lines larger than the buffer are read whole', async () => {
  const big = 'x'.repeat(40_000);
  const child = spawn('sh', ['-c', 'read _', 'corral-long-cmdline', big], { env: { ...process.env, CORRAL_TEST_BIG: big }, stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    const pid = child.pid!;
    // the child's environ and cmdline exist once it has exec'd sh
    const deadline = performance.now() + 10_000;
    while (!readProcText(`/proc/${pid}/cmdline`)?.includes('corral-long-cmdline')) {
      assert.ok(performance.now() < deadline, 'the child exec\'d sh');
      await new Promise((r) => setTimeout(r, 10));
    }
    const env = readProcText(`/proc/${pid}/environ`)!;
    assert.equal(env, readFileSync(`/proc/${pid}/environ`, 'latin1'));
    assert.ok(env.includes(`CORRAL_TEST_BIG=${big}\0`));
    const cmd = readProcText(`/proc/${pid}/cmdline`)!;
    assert.equal(cmd, readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
    assert.ok(cmd.endsWith(`${big}\0`));
    const self = readProcText('/proc/self/stat')!;
    assert.match(self, new RegExp(`^${process.pid} \\(`));
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
});
