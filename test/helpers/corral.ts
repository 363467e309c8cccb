import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, chownSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'corral.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

/**
 * A fresh CORRAL_HOME, so each test has its own ledger: 0700 and the test user's, as corral requires
 * (it refuses a home another user owns or can write). A test that runs corral as another user (nobody)
 * gives that uid as owner; the test itself then reads that ledger with openLedger(path, { allowOwner }).
 */
const homes: string[] = [];
// Removed when the test file's process ends (every process it started is gone by then); thousands of
// homes would otherwise pile up in /tmp run after run. A home something is still mounted on stays.
process.once('exit', () => {
  for (const dir of homes) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* busy (a tmpfs a test could not unmount): left for the machine's tmp cleaning */
    }
  }
});

export function tempHome(owner?: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'corral-home-'));
  homes.push(dir);
  if (owner !== undefined) chownSync(dir, owner, owner);
  return dir;
}

export interface CorralResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CorralProcess {
  child: ChildProcess;
  done: Promise<CorralResult>;
  /** everything written to stdout/stderr so far */
  output: () => string;
}

/** Starts the real corral binary with the Node that runs the tests. */
export function startCorral(args: string[], opts: { env?: NodeJS.ProcessEnv; home?: string; cwd?: string; uid?: number; gid?: number } = {}): CorralProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...opts.env };
  if (opts.home) env.CORRAL_HOME = opts.home;
  const child = spawn(process.execPath, [BIN, ...args], { env, cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  // Resolve on exit, then give the pipes a moment to drain: a process corral could not stop (EPERM) may
  // hold the inherited pipe open for ever, and 'close' would never come.
  const done = new Promise<CorralResult>((resolve) =>
    child.once('exit', (code, signal) => {
      const finish = () => resolve({ code, signal, stdout, stderr });
      const timer = setTimeout(finish, 1000);
      child.once('close', () => {
        clearTimeout(timer);
        finish();
      });
    }),
  );
  return { child, done, output: () => stdout + stderr };
}

export async function runCorral(args: string[], opts: Parameters<typeof startCorral>[1] = {}): Promise<CorralResult> {
  return startCorral(args, opts).done;
}
