/**
 * The guard's own cost and speed (issue 12's closing note). As root:
 *   node bench/guard.ts [--scans 1000] [--extra 2000] [--interval 100ms] [--samples 5] [--latency-interval 1s]
 *
 * 1. Starts `--extra` sleeps (owned by this script), runs `corral guard run` at `--interval` until it has
 *    scanned `--scans` times, and reads its CPU time (utime+stime from /proc/PID/stat) and memory (VmRSS,
 *    VmHWM from /proc/PID/status) after the first scan and at the end.
 * 2. Under a 0 s policy (notify 0s, reap 0s, min_age 0s), times a stopped stray of a throw-away user from
 *    its start to its webhook notification and to its death, `--samples` times.
 * Every guard is confined to a user this script creates (users: [corral-bench-...]); it removes that user
 * and kills every process it started at the end.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/config/duration.ts';
import { CLOCK_TICKS } from '../src/proc/clock.ts';
import { openGuardStateToRead, readCounters } from '../src/guard/state.ts';

const { values: a } = parseArgs({ options: { scans: { type: 'string', default: '1000' }, extra: { type: 'string', default: '2000' }, interval: { type: 'string', default: '100ms' }, samples: { type: 'string', default: '5' }, 'latency-interval': { type: 'string', default: '1s' } } });
const BIN = join(import.meta.dirname, '..', 'bin', 'corral.js');
const started: ChildProcess[] = [];
const home = mkdtempSync(join(tmpdir(), 'corral-bench-guard-'));
const user = `corral-bench-${randomBytes(3).toString('hex')}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(fn: () => T | undefined | false, label: string, ms = 1_200_000, step = 5): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out: ${label}`);
    await sleep(step);
  }
}
function usage(pid: number): { cpuS: number; rssKiB: number; hwmKiB: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  const st = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1]);
  return { cpuS: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS, rssKiB: kb('VmRSS'), hwmKiB: kb('VmHWM') };
}
function guard(policy: string, interval: string): { child: ChildProcess; scans: () => number } {
  const child = spawn(process.execPath, [BIN, 'guard', 'run', '--policy', policy, '--interval', interval], { env: { ...process.env, CORRAL_HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  child.stderr!.resume();
  // the guard logs a scan only when something changed: count scans from its state instead
  let db: ReturnType<typeof openGuardStateToRead> = null;
  const count = () => ((db ??= openGuardStateToRead(join(home, 'guard.sqlite'))) ? (readCounters(db).get('scans') ?? 0) : 0);
  const base = count(); // a second guard in the same home counts on from the first
  return { child, scans: () => count() - base };
}

async function cost(): Promise<void> {
  const extra = Number(a.extra);
  for (let i = 0; i < extra; i++) started.push(spawn('sleep', ['3600'], { stdio: 'ignore' }));
  const policy = join(home, 'cost.yaml');
  writeFileSync(policy, `users: [${user}]\nrules:\n  - reason: any\n    notify: 0s\nnotify:\n  terminal: false\n`, { mode: 0o600 });
  const g = guard(policy, a.interval!);
  const total = Number(a.scans);
  await until(() => g.scans() >= 1, 'first scan');
  const first = usage(g.child.pid!);
  const t0 = performance.now();
  const mid: number[] = [];
  await until(() => {
    if (g.scans() >= total / 2 && !mid.length) mid.push(usage(g.child.pid!).rssKiB);
    return g.scans() >= total;
  }, `${total} scans`);
  const last = usage(g.child.pid!);
  const wall = (performance.now() - t0) / 1000;
  g.child.kill('SIGTERM');
  const scans = total - 1;
  console.log(`cost: ${scans} scans of ~${extra + 100} processes (${extra} extra sleeps) at --interval ${a.interval} in ${wall.toFixed(1)}s`);
  console.log(`  CPU ${(last.cpuS - first.cpuS).toFixed(2)}s = ${(((last.cpuS - first.cpuS) / scans) * 1000).toFixed(1)} ms per scan (${(((last.cpuS - first.cpuS) / wall) * 100).toFixed(1)}% of one core)`);
  console.log(`  RSS after scan 1: ${(first.rssKiB / 1024).toFixed(1)} MiB, at scan ${total / 2}: ${(mid[0]! / 1024).toFixed(1)} MiB, at scan ${total}: ${(last.rssKiB / 1024).toFixed(1)} MiB, peak ${(last.hwmKiB / 1024).toFixed(1)} MiB`);
  for (const c of started.splice(0)) c.kill('SIGKILL');
}

async function latency(): Promise<void> {
  const got = new Map<number, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      got.set((JSON.parse(body) as { pid: number }).pid, performance.now());
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const policy = join(home, 'zero.yaml');
  writeFileSync(policy, `users: [${user}]\nmin_age: 0s\nrules:\n  - reason: any\n    notify: 0s\n    reap: 0s\nnotify:\n  webhook: http://127.0.0.1:${port}/\n  terminal: false\n`, { mode: 0o600 });
  const g = guard(policy, a['latency-interval']!);
  await until(() => g.scans() >= 1, 'first scan');
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));
  const notify: number[] = [];
  const reap: number[] = [];
  for (let i = 0; i < Number(a.samples); i++) {
    const c = spawn('sleep', ['3600'], { uid, gid: uid === 0 ? 0 : Number(execFileSync('id', ['-g', user], { encoding: 'utf8' })), stdio: 'ignore' });
    started.push(c);
    const t0 = performance.now();
    process.kill(c.pid!, 'SIGSTOP'); // a stopped stray from the moment it exists
    const exited = new Promise<number>((r) => c.once('exit', () => r(performance.now())));
    const dead = await exited;
    await until(() => got.get(c.pid!), 'the notification');
    notify.push(got.get(c.pid!)! - t0);
    reap.push(dead - t0);
  }
  g.child.kill('SIGTERM');
  server.close();
  const fmt = (xs: number[]) => `median ${(xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]! / 1000).toFixed(2)}s, max ${(Math.max(...xs) / 1000).toFixed(2)}s`;
  console.log(`latency under a 0 s policy at --interval ${a['latency-interval']} (${notify.length} strays): to notification ${fmt(notify)}; to reap ${fmt(reap)}`);
  console.log(`  (the interval bounds both: a stray waits for the next scan; ${parseDuration(a['latency-interval']!)}ms between scans)`);
}

try {
  execFileSync('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', user]);
  await cost();
  await latency();
} finally {
  for (const c of started) c.kill('SIGKILL');
  try {
    execFileSync('userdel', [user]);
  } catch {
    /* not created */
  }
  rmSync(home, { recursive: true, force: true });
}
