import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { listPids } from '../../src/proc/snapshot.ts';
import { readStat } from '../../src/proc/stat.ts';
import { isAlive, type Identity } from '../../src/proc/identity.ts';
import { removeCgroup } from '../../src/os/cgroup.ts';

/** A token no other process on the machine carries: tests mark what they start with it. */
export function newToken(label = 't'): string {
  return `corraltest_${label}_${randomBytes(6).toString('hex')}`;
}

/** Live (non-zombie counts too) processes whose environment or command line carries the token. */
export function findByToken(token: string): (Identity & { state: string; cmd: string })[] {
  const out: (Identity & { state: string; cmd: string })[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    let hit = false;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
      hit = cmd.includes(token) || readFileSync(`/proc/${pid}/environ`, 'latin1').includes(token);
    } catch {
      /* gone, or a kernel thread */
    }
    if (!hit) continue;
    const st = readStat(pid);
    if (st) out.push({ pid, starttime: st.starttime, state: st.state, cmd: cmd.trim() });
  }
  return out;
}

/** Polls until the condition holds; throws with the label after the deadline. Never a fixed sleep. */
export async function waitFor<T>(cond: () => T | Promise<T>, label: string, timeoutMs = 10_000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for: ${label}`);
    await sleep(intervalMs);
  }
}

/**
 * True when the process is already dying: the kernel has it in exit (PF_EXITING, 0x4, in /proc/PID/stat's
 * flags; its memory may be gone while its state still reads R), or a SIGKILL is pending for it (ShdPnd or
 * SigPnd in /proc/PID/status), sent but not yet acted on because it has not been scheduled since. A test
 * that has just SIGKILLed its own child can meet it so (seen in a pid namespace on two loaded cores); it is
 * not a leftover.
 */
function exiting(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    if ((Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]) & 0x4) !== 0) return true;
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    return [...status.matchAll(/^(?:ShdPnd|SigPnd):\s*([0-9a-f]+)$/gm)].some((m) => (BigInt(`0x${m[1]}`) & 0x100n) !== 0n);
  } catch {
    return true; // gone
  }
}

/**
 * Remembers every pid and token a test learned. cleanup() SIGKILLs whatever is still alive (checked by
 * identity, never a bare pid) and returns what it had to kill, so a test can assert that it was nothing.
 */
export class Tracker {
  readonly ids: Identity[] = [];
  readonly tokens: string[] = [];
  /** run cgroups a test made lost (supervisor and sentinel killed): nothing else would remove them */
  readonly cgroups: string[] = [];

  cgroup(dir: string | null | undefined): void {
    if (dir) this.cgroups.push(dir);
  }

  pid(pid: number | undefined): void {
    if (!pid) return;
    const st = readStat(pid);
    if (st) this.ids.push({ pid, starttime: st.starttime });
  }

  token(label?: string): string {
    const t = newToken(label);
    this.tokens.push(t);
    return t;
  }

  alive(): Identity[] {
    const found = new Map<string, Identity>();
    // isAlive already says no to a zombie (a second read could find the pid just reaped, null, and count a
    // process that is gone); one already in exit is not left behind either
    for (const id of this.ids) if (isAlive(id) && !exiting(id.pid)) found.set(`${id.pid}:${id.starttime}`, id);
    for (const t of this.tokens) for (const id of findByToken(t)) if (id.state !== 'Z' && !exiting(id.pid)) found.set(`${id.pid}:${id.starttime}`, id);
    return [...found.values()];
  }

  /** Force-kills every learned process still alive (SIGCONT first, for stopped ones); returns them. */
  async cleanup(): Promise<Identity[]> {
    const left = this.alive();
    for (const id of left) {
      if (readStat(id.pid)?.starttime !== id.starttime) continue;
      try {
        process.kill(id.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await waitFor(() => this.alive().length === 0, 'tracked processes to die after SIGKILL', 10_000).catch(() => {});
    // rmdir only, deepest first: a cgroup that still holds a process stays (and its process is reported)
    for (const dir of this.cgroups.splice(0)) await waitFor(() => removeCgroup(dir), `the lost run's cgroup ${dir} to be removable`, 5000).catch(() => {});
    return left;
  }
}

/**
 * Runs `fn` with an environment carrying a fresh test token, then waits (bounded) for every process
 * carrying it to end and asserts that nothing was left to force-kill.
 */
export async function withTracker<T>(label: string, fn: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const t = new Tracker();
  const token = t.token(label);
  try {
    return await fn({ CORRAL_TEST_TOKEN: token });
  } finally {
    await waitFor(() => t.alive().length === 0, 'every process of the pool to be gone', 5000).catch(() => {});
    assert.deepEqual(await t.cleanup(), [], 'nothing was left to force-kill');
  }
}

/**
 * True once the process runs a Python interpreter itself, not a launcher: `python3` on PATH may be a pyenv
 * shim, a bash script whose comm is "python3" too, which runs helper processes first and exits under
 * `set -e` when one is killed. A test that waits for its Python fixture waits for this.
 */
export function runsPython(pid: number): boolean {
  try {
    return basename(readlinkSync(`/proc/${pid}/exe`)).startsWith('python');
  } catch {
    return false;
  }
}
