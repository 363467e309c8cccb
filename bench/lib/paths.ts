import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'corral.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const WORKLOADS = join(ROOT, 'bench', 'workloads');
export const PEERS = join(ROOT, 'bench', 'peers');
/** The Node that runs the benchmark also runs corral and the Node peers, so they share one start-up cost. */
export const NODE = process.execPath;

/** A scratch directory for the whole benchmark run; removed by cleanScratch(). */
export const SCRATCH = mkdtempSync(join(tmpdir(), 'corral-bench-'));

export function makeScratchDir(prefix: string): string {
  return mkdtempSync(join(SCRATCH, `${prefix}-`));
}

export function cleanScratch(): void {
  rmSync(SCRATCH, { recursive: true, force: true });
}

/**
 * The environment every supervised workload gets. Version-manager shims (pyenv's python3 is a bash
 * script that runs `pyenv exec`) cost ~150 ms a start on this machine and would swamp the figures, so
 * a directory linking python3 straight to the real interpreter goes first on PATH.
 */
let cachedEnv: NodeJS.ProcessEnv | undefined;
export function makeWorkloadEnv(): NodeJS.ProcessEnv {
  if (cachedEnv) return cachedEnv;
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  try {
    const real = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    const bin = join(SCRATCH, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(real, join(bin, 'python3'));
    env.PATH = `${bin}:${env.PATH ?? '/usr/bin:/bin'}`;
  } catch {
    /* no python3: the Python workloads report themselves as not ready */
  }
  cachedEnv = env;
  return env;
}
