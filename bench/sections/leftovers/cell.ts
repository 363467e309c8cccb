import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanUpCorralHome, registryListsAll } from '../../lib/corral-home.ts';
import { findMarked, killMarked, newToken, pollUntil, type Seen, type SharedScan } from '../../lib/procs.ts';
import { makeScratchDir, makeWorkloadEnv } from '../../lib/paths.ts';
import { buildWorkloadArgv, type Supervisor, type Workload } from './matrix.ts';

export type Ending = 'timeout' | 'SIGTERM' | 'SIGKILL';
export const ENDINGS: Ending[] = ['timeout', 'SIGTERM', 'SIGKILL'];

export interface CellResult {
  /** marked processes alive (not zombies) `afterMs` after the ending */
  left: number;
  /** marked processes (argv or environment) alive just before the ending */
  up: number;
  /** what was left: "pid state cmd" */
  survivors: string[];
  /** anything that makes the cell less than a fair measurement */
  note?: string;
  log: string;
}

export interface CellOptions {
  timeoutS: number;
  afterMs: number;
  scan: SharedScan;
}

/** One cell: start the workload under the supervisor, end it one way, wait, count what carries its mark. */
export async function runCell(sup: Supervisor, w: Workload, ending: Ending, o: CellOptions): Promise<CellResult> {
  const token = newToken();
  const mark = `wl_${token}`;
  const dir = makeScratchDir(`${sup.id}-${w.id}`);
  const logPath = join(dir, 'output.log');
  const log = openSync(logPath, 'a');
  const { argv, env } = sup.launch(buildWorkloadArgv(w, token), ending === 'timeout' ? o.timeoutS : null, dir);
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log], env: { ...makeWorkloadEnv(), ...env } });
  closeSync(log);
  child.on('error', () => {});
  const notes: string[] = [];
  const argvMarked = () => o.scan.live(mark).filter((p) => p.inArgv);
  const seen = { max: 0 };
  const ready = await pollUntil(makeReadyCheck(w, argvMarked, seen), ending === 'timeout' ? o.timeoutS * 1000 - 100 : 15_000, 50);
  if (!ready) notes.push(`the workload was not up and steady for 300 ms before the ending (${seen.max} of ${w.ready} processes seen at most)`);
  const up = o.scan.live(mark).length;
  let endedAt = performance.now();
  if (ending === 'timeout') {
    endedAt = started + o.timeoutS * 1000;
  } else if (child.exitCode !== null || child.signalCode !== null) {
    notes.push(`the supervisor had exited (${child.exitCode ?? child.signalCode}) before the ending`);
  } else {
    if (ending === 'SIGKILL' && sup.corral) {
      const seen = await pollUntil(() => registryListsAll(dir, argvMarked()), 10_000, 50);
      if (!seen) notes.push('corral registry had not listed every process before the SIGKILL');
    }
    child.kill(ending);
    endedAt = performance.now();
  }
  await sleep(Math.max(0, endedAt + o.afterMs - performance.now()));
  const survivors = findMarked(mark);
  const result: CellResult = {
    left: survivors.length,
    up,
    survivors: survivors.map((p) => `${p.pid} ${p.state} ${p.cmd || '(env-marked)'}`),
    note: notes.length ? notes.join('; ') : undefined,
    log: readFileSync(logPath, 'utf8').slice(-2000),
  };
  await cleanUp(token, dir, sup.corral === true);
  return result;
}

/**
 * Kills everything this cell started: the workload (wl_TOKEN) and the supervisor chain (TOKEN in argv)
 * both match the token; corral's sentinel is found through the cell's own ledger.
 */
async function cleanUp(token: string, home: string, corral: boolean): Promise<void> {
  await killMarked(token);
  if (corral) cleanUpCorralHome(home);
}

/**
 * Up means: at least `ready` marked processes (and `stopped` of them in state T), the same set for
 * 300 ms, and none of them using CPU meanwhile. A daemon caught between its two forks, or a Python still
 * starting up on a loaded machine (before its setsid), does not count as up. `seen` keeps the largest
 * count met, for the note when the workload never got there.
 */
function makeReadyCheck(w: Workload, live: () => Seen[], seen: { max: number }): () => boolean {
  let last = '';
  let since = 0;
  return () => {
    const now = live();
    seen.max = Math.max(seen.max, now.length);
    // the state flickers between running and sleeping; stopped or not, and CPU time, tell "settled"
    const key = now.map((p) => `${p.pid}:${p.starttime}:${p.state === 'T'}:${p.cpuTicks}`).sort().join(',');
    if (key !== last) {
      last = key;
      since = performance.now();
      return false;
    }
    return now.length >= w.ready && now.filter((p) => p.state === 'T').length >= (w.stopped ?? 0) && performance.now() - since >= 300;
  };
}
