import { readEnvFacts, type EnvFacts } from './markers.ts';
import { readProcText } from './stat.ts';

/**
 * A process's environment facts kept from one snapshot to the next (the guard's passes), so an idle
 * machine's environments are read once rather than every pass.
 *
 * What this relies on: /proc/PID/environ is the process's memory from env_start to env_end, fields 50
 * and 51 of /proc/PID/stat (Linux 3.5+). exec sets both to a new block on a new stack (its address
 * randomised), and prctl(PR_SET_MM_ENV_START/END) is the only other way to move them, so a process whose
 * (pid, starttime, uid, env_start, env_end) are unchanged still has the block that was read. Not seen: a
 * process writing into its own block in place (setproctitle clobbering it), whose facts stay as first
 * read (the variables it started with), and an exec with address randomisation off that puts a block of
 * the same size at the same address. Where the fields are hidden (0, no ptrace access), nothing is kept.
 */
export class EnvCache {
  private prev = new Map<string, EnvFacts>();
  private cur = new Map<string, EnvFacts>();
  /** false on a kernel whose stat line has no env_start/env_end: every read goes to /proc */
  readonly usable: boolean;

  constructor() {
    this.usable = fieldCount(readProcText('/proc/self/stat') ?? '') >= 52;
  }

  /** Starts a snapshot: what the last one did not see is forgotten, so the cache holds live processes only. */
  beginSnapshot(): void {
    this.prev = this.cur;
    this.cur = new Map();
  }

  /** Whether facts of `pid` are kept (only live processes of the last snapshot are). */
  knows(pid: number): boolean {
    const prefix = `${pid} `;
    for (const key of this.cur.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** The facts of `pid`, from the last snapshot where its environment block is the same one, else read. */
  factsOf(pid: number, statText: string, starttime: number, uid: number): EnvFacts {
    const area = this.usable ? envArea(statText) : undefined;
    if (area === undefined) return readEnvFacts(pid);
    const key = `${pid} ${starttime} ${uid} ${area}`;
    const facts = this.prev.get(key) ?? this.cur.get(key) ?? readEnvFacts(pid);
    this.cur.set(key, facts);
    return facts;
  }
}

/** "env_start env_end" from a stat line (the two fields before the last), or undefined when hidden. */
export function envArea(statText: string): string | undefined {
  const end = statText.endsWith('\n') ? statText.length - 1 : statText.length;
  const last = statText.lastIndexOf(' ', end - 1);
  const mid = statText.lastIndexOf(' ', last - 1);
  const first = statText.lastIndexOf(' ', mid - 1);
  if (first < 0) return undefined;
  const area = statText.slice(first + 1, last);
  return area === '0 0' ? undefined : area;
}

function fieldCount(statText: string): number {
  const close = statText.lastIndexOf(')');
  return close < 0 ? 0 : 2 + statText.slice(close + 2).trim().split(' ').length;
}
