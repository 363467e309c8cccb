import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { buildFakeNvml } from '../gpu/gpu-fixtures.ts';
import { skipOrFail } from '../helpers/skip.ts';
import { waitFor, type Tracker } from '../helpers/procs.ts';
import { readStat } from '../../src/proc/stat.ts';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  remove(): void;
}

/**
 * A user that exists only for this test (corral-test-<random>): every guard a test runs covers only such
 * users, so nothing else on the machine can be notified or reaped. Null (skipped) where not root.
 */
export function createTestUser(t: TestContext): TestUser | null {
  if (process.getuid?.() !== 0) {
    skipOrFail(t, 'the guard tests create users (useradd) and need root');
    return null;
  }
  const name = `corral-test-${randomBytes(4).toString('hex')}`;
  execFileSync('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', name], { stdio: 'ignore' });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    execFileSync('userdel', [name], { stdio: 'ignore' });
  };
  process.once('exit', remove);
  return { name, uid, gid, remove };
}

/** A sleep of the test user; `stopped`: SIGSTOPped, so the stopped rule makes it a stray. */
export async function startAs(user: TestUser, tracker: Tracker, opts: { stopped?: boolean } = {}): Promise<{ pid: number; starttime: number }> {
  const token = tracker.token('guard');
  const child = spawn('sleep', ['300'], { uid: user.uid, gid: user.gid, env: { PATH: process.env.PATH, GUARD_TEST: token }, stdio: 'ignore' });
  child.unref();
  await waitFor(() => readStat(child.pid!), 'the test user process to start');
  tracker.pid(child.pid);
  if (opts.stopped) {
    process.kill(child.pid!, 'SIGSTOP');
    await waitFor(() => readStat(child.pid!)?.state === 'T', 'the test process to stop');
  }
  return { pid: child.pid!, starttime: readStat(child.pid!)!.starttime };
}

/** The stand-in NVML library, for a stray that "holds GPU memory" (FAKE_NVML_COMPUTE0=pid:mib). */
export function fakeGpuEnv(pidMib: [number, number][]): NodeJS.ProcessEnv | null {
  const dir = mkdtempSync(join(tmpdir(), 'corral-guard-nvml-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const lib = buildFakeNvml(dir, 32);
  if (!lib) return null;
  return { CORRAL_NVML_LIBRARY: lib, FAKE_NVML_COMPUTE0: pidMib.map(([p, m]) => `${p}:${m}`).join(',') };
}

/** A policy file in the test's home (root-owned, 0600: the guard as root refuses anything else). */
export function writePolicy(home: string, text: string, name = 'policy.yaml'): string {
  const path = join(home, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

export interface Receiver {
  url: string;
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

/** A local HTTP receiver standing in for Slack/Mattermost: records each JSON body POSTed to it. */
export async function startReceiver(): Promise<Receiver> {
  const bodies: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d));
    req.on('end', () => {
      bodies.push(JSON.parse(data) as Record<string, unknown>);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`, bodies,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
