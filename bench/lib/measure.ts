import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, type Identity } from '../../src/proc/identity.ts';

export interface Timed {
  ms: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Wall-clock time of one command from spawn to exit, its output read through a pipe (as a script that
 * uses the output would). Every tool pays the same spawn cost from here, so the ratios stay fair.
 */
export function timeCommand(argv: string[], env?: NodeJS.ProcessEnv, input?: string): Timed {
  const t = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { env: env ?? process.env, input, encoding: 'utf8', maxBuffer: 256 * 2 ** 20, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const ms = performance.now() - t;
  if (r.error) throw r.error;
  return { ms, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Whether a corral subcommand is there (a helper may still be writing it). */
export function hasCorralCommand(node: string, bin: string, command: string): boolean {
  const r = spawnSync(node, [bin, command, '--help'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(`corral ${command}`);
}

/**
 * Watches a set of processes die. It checks one live process at a time (moving on only when that one is
 * gone), so polling every millisecond costs one stat read, and the moment it finds the set empty is at
 * most a poll after the last one died. A zombie counts as gone: it is dead, only unreaped.
 */
export class DeathWatch {
  private ids: Identity[];
  private next = 0;
  goneAt: number | null = null;

  constructor(ids: Identity[]) {
    this.ids = ids;
  }

  /** Waits until every process is gone (true) or the deadline (performance.now() ms) passes (false). */
  async until(deadline: number): Promise<boolean> {
    while (this.next < this.ids.length) {
      if (!isAlive(this.ids[this.next]!)) {
        this.next++;
        continue;
      }
      if (performance.now() > deadline) return false;
      await sleep(1);
    }
    this.goneAt ??= performance.now();
    return true;
  }

  /** How many are still alive now. */
  left(): number {
    return this.ids.slice(this.next).filter(isAlive).length;
  }
}
