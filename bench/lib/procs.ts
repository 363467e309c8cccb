import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { listPids } from '../../src/proc/snapshot.ts';
import { readStat } from '../../src/proc/stat.ts';
import type { Identity } from '../../src/proc/identity.ts';

/** A live process a scan found, with the state that decides whether it still counts. */
export interface Seen extends Identity {
  ppid: number;
  state: string;
  /** the token was in the command line (not only inherited in the environment) */
  inArgv: boolean;
  /** CPU time so far (clock ticks): a process still starting up keeps adding to it */
  cpuTicks: number;
  cmd: string;
}

/** A token no other process carries; the benchmark marks, counts and kills only what carries its tokens. */
export function newToken(): string {
  return `bk${randomBytes(6).toString('hex')}`;
}

function readRaw(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/**
 * One pass over /proc for many tokens at once: every process whose command line or environment carries
 * one of them. Concurrent benchmark cells share the pass, so polling stays cheap.
 */
export function scanTokens(pattern: RegExp): Map<string, Seen[]> {
  const out = new Map<string, Seen[]>();
  const re = new RegExp(pattern.source, 'g');
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const cmdline = readRaw(`/proc/${pid}/cmdline`);
    const inArgv = new Set(Array.from(cmdline.matchAll(re), (m) => m[1] ?? m[0]));
    const hits = new Set([...inArgv, ...Array.from(readRaw(`/proc/${pid}/environ`).matchAll(re), (m) => m[1] ?? m[0])]);
    if (!hits.size) continue;
    const st = readStat(pid);
    if (!st) continue;
    const cmd = cmdline.replace(/\0/g, ' ').trim();
    for (const t of hits) {
      const list = out.get(t) ?? [];
      list.push({ pid, starttime: st.starttime, ppid: st.ppid, state: st.state, inArgv: inArgv.has(t), cpuTicks: st.cpuTicks, cmd });
      out.set(t, list);
    }
  }
  return out;
}

/** Live (not zombie) processes carrying this exact needle. */
export function findMarked(needle: string): Seen[] {
  const esc = needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return (scanTokens(new RegExp(`(${esc})`)).get(needle) ?? []).filter((p) => p.state !== 'Z');
}

/** A shared scan, reused for `maxAgeMs`: many cells polling at once cost one pass. */
export class SharedScan {
  private at = 0;
  private last = new Map<string, Seen[]>();
  private pattern: RegExp;
  private maxAgeMs: number;

  constructor(pattern: RegExp, maxAgeMs = 100) {
    this.pattern = pattern;
    this.maxAgeMs = maxAgeMs;
  }

  live(token: string): Seen[] {
    if (performance.now() - this.at > this.maxAgeMs) {
      this.last = scanTokens(this.pattern);
      this.at = performance.now();
    }
    return (this.last.get(token) ?? []).filter((p) => p.state !== 'Z');
  }
}

/** Polls until cond holds or the deadline passes; returns whether it held. */
export async function pollUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 25): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    if (await cond()) return true;
    if (performance.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** SIGKILLs exactly these identities (re-checking each starttime first); returns how many it signalled. */
export function killIdentities(ids: Identity[]): number {
  let n = 0;
  for (const id of ids) {
    if (id.pid <= 1 || readStat(id.pid)?.starttime !== id.starttime) continue;
    try {
      process.kill(id.pid, 'SIGKILL');
      n++;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

/** Kills every process carrying the needle until none is left (restart loops respawn between passes). */
export async function killMarked(needle: string, timeoutMs = 10_000): Promise<number> {
  let killed = 0;
  await pollUntil(() => {
    const left = findMarked(needle);
    killed += killIdentities(left);
    return left.length === 0;
  }, timeoutMs, 20);
  return killed;
}
