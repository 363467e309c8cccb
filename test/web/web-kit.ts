import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedgerToRead } from '../../src/ledger/db.ts';
import { attemptsOfRun } from '../../src/ledger/jobs.ts';
import { listRuns } from '../../src/ledger/runs.ts';
import { readStat } from '../../src/proc/stat.ts';
import { startCorral, tempHome, type CorralProcess } from '../helpers/corral.ts';
import { waitFor, type Tracker } from '../helpers/procs.ts';
import { buildFakeNvml } from '../gpu/gpu-fixtures.ts';
import { STRAY_FIXTURES } from '../strays/stray-kit.ts';

/** A process name no page may interpret: markup, a terminal escape, a bidi override. */
export const HOSTILE = '<img src=x onerror="window.__pwned=1">\u202eevil\x1b[2J';
export const FAKE_MIB = 5632;

/** A machine to look at: a fake GPU, an orphan holding it (named HOSTILE), a live logged run holding it too. */
export interface WebWorld {
  home: string;
  dev: string;
  env: NodeJS.ProcessEnv;
  fakeNvml: boolean;
  orphanPid: number;
  runId: string;
  jobPid: number;
  run: CorralProcess;
}

export async function makeWorld(t: Tracker): Promise<WebWorld> {
  const token = t.token('web');
  const home = tempHome();
  const dev = mkdtempSync(join(tmpdir(), 'corral-webdev-'));
  chmodSync(dev, 0o755);
  writeFileSync(join(dev, 'nvidia0'), '');
  const nvml = buildFakeNvml(dev, 24);
  const orphan = spawn('/bin/bash', [join(STRAY_FIXTURES, 'orphan.sh'), token, join(dev, 'nvidia0'), HOSTILE], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  orphan.stdout.on('data', (d: Buffer) => (out += d));
  await new Promise((r) => orphan.on('close', r));
  const orphanPid = Number(out.trim());
  t.pid(orphanPid);
  const env: NodeJS.ProcessEnv = {
    CORRAL_GPU_DEV_DIR: dev, CORRAL_TEST_TOKEN: token,
    ...(nvml ? { CORRAL_NVML_LIBRARY: nvml, FAKE_NVML_COMPUTE0: `${orphanPid}:${FAKE_MIB}` } : { CORRAL_GPU_PROBES: 'procfs' }),
  };
  const run = startRun(home, env, dev, 'hello-from-the-job');
  t.pid(run.child.pid);
  const { runId, jobPid } = await waitForRun(home, (id) => id !== undefined).catch((e: Error) => {
    // what corral said, and whether it still runs: a start that never reached the job says why here
    throw new Error(`${e.message}; corral ${run.child.exitCode === null ? 'still running' : `exited ${run.child.exitCode}`}, its output: ${JSON.stringify(run.output())}`);
  });
  return { home, dev, env, fakeNvml: !!nvml, orphanPid, runId, jobPid, run };
}

/** `corral run --log` of a job that prints a line and holds the fake /dev/nvidia0 until stopped. */
export function startRun(home: string, env: NodeJS.ProcessEnv, dev: string, line: string): CorralProcess {
  return startCorral(['run', '--log', '--grace', '500ms', '--', 'sh', '-c', `echo ${line}; exec 9<"$0"; exec sleep 100000`, join(dev, 'nvidia0')], { home, env });
}

/** The newest run whose job (sleep) is up, once `accept` takes its id. */
export async function waitForRun(home: string, accept: (id: string | undefined) => boolean): Promise<{ runId: string; jobPid: number }> {
  return waitFor(() => {
    const db = openLedgerToRead(join(home, 'ledger.sqlite'));
    try {
      const r = listRuns(db)[0];
      const pid = r && accept(r.id) ? attemptsOfRun(db, r.id)[0]?.pid : undefined;
      return pid && readStat(pid)?.comm === 'sleep' ? { runId: r!.id, jobPid: pid } : undefined;
    } finally {
      db.close();
    }
  }, 'the run\'s job to hold the device', 30_000); // a corral start under a loaded suite took over 10 s once
}

/** Starts `corral ui` and returns its URL once it has printed it. */
export async function startUi(home: string, env: NodeJS.ProcessEnv, args: string[] = ['--listen', '127.0.0.1:0', '--interval', '1s'], uid?: number): Promise<{ ui: CorralProcess; url: string }> {
  const ui = startCorral(['ui', ...args], { home, env, uid, gid: uid });
  const url = await waitFor(() => /^(http:\/\/\S+)\n/.exec(ui.output())?.[1] ?? (ui.child.exitCode !== null ? 'exited' : undefined), 'corral ui to print its URL');
  if (url === 'exited') throw new Error(`corral ui exited: ${ui.output()}`);
  return { ui, url };
}

/** Ends a corral (ui or run) the way a person does, and waits for it. */
export async function stopCorral(p: CorralProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await p.done;
}

export async function getJson<T = any>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
