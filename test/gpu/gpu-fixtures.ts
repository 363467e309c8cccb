import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { requireInCI } from '../helpers/skip.ts';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'gpu');

export function readFixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** Bytes from a commented hex dump: "# ..." and anything after "#" on a line is prose. */
export function readHexFixture(name: string): Buffer {
  const hex = readFixture(name).split('\n').map((l) => l.replace(/#.*/, '')).join(' ');
  const bytes = hex.split(/\s+/).filter(Boolean).map((b) => {
    assert.match(b, /^[0-9a-f]{2}$/i, `bad byte ${b} in ${name}`);
    return parseInt(b, 16);
  });
  return Buffer.from(bytes);
}

/** Compiles fake-nvml.c for one struct size; null where no C compiler is installed. */
export function buildFakeNvml(outDir: string, entrySize: 24 | 32): string | null {
  const out = join(outDir, `libfake-nvml-${entrySize}.so`);
  const res = spawnSync('cc', ['-shared', '-fPIC', '-O1', `-DENTRY_SIZE=${entrySize}`, '-o', out, join(FIXTURES, 'fake-nvml.c')]);
  return requireInCI(res.status === 0 ? out : null, 'the fake NVML library (cc)') ?? null;
}

/** Starts `cmd` (default sleep) holding each path open as fds 3, 4, ... like a CUDA process holds /dev/nvidiaN. */
export function spawnHolder(paths: string[], cmd = 'sleep'): ChildProcess {
  const fds = paths.map((p) => openSync(p, 'r'));
  try {
    const child = spawn(cmd, ['60'], { stdio: ['ignore', 'ignore', 'ignore', ...fds] });
    assert.ok(child.pid, `could not start ${cmd}`);
    return child;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** Kills a test child and proves it is gone, so no test leaves a stray behind. */
export async function stopChild(child: ChildProcess): Promise<void> {
  const pid = child.pid!;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  assert.equal(existsSync(`/proc/${pid}`), false, `child ${pid} still present`);
}
