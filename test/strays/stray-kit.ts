import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeCgroup } from '../../src/os/cgroup.ts';
import { openLedger } from '../../src/ledger/db.ts';
import { registryOfRun } from '../../src/ledger/registry.ts';
import { listRuns } from '../../src/ledger/runs.ts';
import type { Identity } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { FIXTURES, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { requireInCI } from '../helpers/skip.ts';
import { signalIdentity } from '../../src/proc/signal.ts';

export const STRAY_FIXTURES = join(FIXTURES, 'strays');
export const NOBODY = 65534;
export const isRoot = process.getuid?.() === 0;
/** The incident's renamed trainer. */
export const RENAMED = 'python restarts_count 0';

/** A real stray of every kind, made on this machine, each carrying the test's token. */
export interface StrayKit {
  token: string;
  home: string;
  devDir: string;
  /** env for corral: this ledger, the fake device directory, the fake NVML when one could be built */
  env: NodeJS.ProcessEnv;
  /** orphaned, renamed, holding the fake /dev/nvidia0 (and 5.5 GiB through the fake NVML when built) */
  gpuOrphan: Identity;
  stopped: Identity;
  zombieParent: Identity;
  zombie: Identity;
  runId: string;
  /** the lost run's job processes (leader and two children, one in its own session) */
  runPids: number[];
  /** an orphan owned by uid 65534; only made when running as root */
  otherUid?: Identity;
  /** a plain child of the test with no stray reason: it must survive every reap */
  bystander: Identity;
  fakeNvml: boolean;
  /** every stray pid (not the bystander) */
  strayPids(): number[];
  dispose(): void;
}

function identity(pid: number): Identity {
  const st = readStat(pid);
  if (!st) throw new Error(`process ${pid} vanished`);
  return { pid, starttime: st.starttime };
}

async function runFixture(script: string, args: string[], opts: { uid?: number; gid?: number } = {}): Promise<number[]> {
  const child = spawn('/bin/sh', [join(STRAY_FIXTURES, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  await new Promise((resolve) => child.on('close', resolve));
  const pids = out.trim().split(/\s+/).map(Number);
  if (!pids.length || pids.some((p) => !p)) throw new Error(`${script} printed '${out}'`);
  return pids;
}

function buildFakeNvml(dir: string): string | null {
  const out = join(dir, 'libfake-nvml.so');
  const res = spawnSync('cc', ['-shared', '-fPIC', '-O1', '-DENTRY_SIZE=24', '-o', out, join(FIXTURES, 'gpu', 'fake-nvml.c')]);
  return requireInCI(res.status === 0 ? out : null, 'the fake NVML library (cc)') ?? null;
}

/** Makes every kind of stray the issue names, plus a bystander; every pid goes to the tracker. */
export async function makeStrays(t: Tracker): Promise<StrayKit> {
  const token = t.token('stray');
  const home = tempHome();
  // A machine booted minutes ago (a fresh CI machine) would take the kit's session leaders for boot-time daemons.
  writeFileSync(join(home, 'strays-allow.yaml'), 'bootGraceSeconds: 0\n');
  const devDir = mkdtempSync(join(tmpdir(), 'corral-fakedev-'));
  chmodSync(devDir, 0o755);
  writeFileSync(join(devDir, 'nvidia0'), '');
  const [gpuPid] = await runFixture('orphan.sh', [token, join(devDir, 'nvidia0'), RENAMED]);
  t.pid(gpuPid);
  const [zParent, zChild] = await runFixture('zombie-parent.sh', [token]);
  t.pid(zParent);
  const stoppedChild = spawn('sleep', ['100000'], { env: { ...process.env, CORRAL_TEST_TOKEN: token }, stdio: 'ignore' });
  const bystanderChild = spawn('sleep', ['100000'], { env: { ...process.env, CORRAL_TEST_TOKEN: token }, stdio: 'ignore' });
  t.pid(stoppedChild.pid);
  t.pid(bystanderChild.pid);
  process.kill(stoppedChild.pid!, 'SIGSTOP');
  let otherUid: Identity | undefined;
  if (isRoot) {
    const [pid] = await runFixture('orphan.sh', [token], { uid: NOBODY, gid: NOBODY });
    t.pid(pid);
    otherUid = identity(pid!);
  }
  const nvml = buildFakeNvml(devDir);
  const env: NodeJS.ProcessEnv = { CORRAL_HOME: home, CORRAL_GPU_DEV_DIR: devDir, CORRAL_TEST_TOKEN: token };
  if (nvml) Object.assign(env, { CORRAL_NVML_LIBRARY: nvml, FAKE_NVML_COMPUTE0: `${gpuPid}:5632` });
  else env.CORRAL_GPU_PROBES = 'procfs';

  // A run whose supervisor and sentinel are both SIGKILLed: the sentinel first, so nothing tears it down.
  const corral = startCorral(['run', '--', join(STRAY_FIXTURES, 'lost-job.sh')], { home, env: { CORRAL_TEST_TOKEN: token, CORRAL_POLL_MS: '50' } });
  t.pid(corral.child.pid);
  const db = openLedger(join(home, 'ledger.sqlite'));
  const run = await waitFor(() => listRuns(db)[0]?.sentinel_pid ? listRuns(db)[0] : undefined, 'the run and its sentinel in the ledger');
  t.pid(run.sentinel_pid!);
  const rows = await waitFor(() => {
    const r = registryOfRun(db, run.id, { live: true });
    return r.length >= 3 ? r : undefined;
  }, 'the job leader and its two children in the registry');
  db.close();
  for (const r of rows) t.pid(r.pid);
  // The supervisor replaces a sentinel that dies under it: stop it first, so that both are lost at once.
  corral.child.kill('SIGSTOP');
  await waitFor(() => readStat(corral.child.pid!)?.state === 'T', 'the supervisor to stop');
  t.cgroup(run.cgroup); // nothing tears a lost run down: the test removes its empty cgroup at the end
  signalIdentity({ pid: run.sentinel_pid!, starttime: run.sentinel_starttime! }, 'SIGKILL');
  const dead = (pid: number, starttime: number | null) => {
    const st = readStat(pid);
    return !st || st.starttime !== starttime || st.state === 'Z';
  };
  await waitFor(() => dead(run.sentinel_pid!, run.sentinel_starttime), 'the sentinel to die');
  // 'exit', not corral.done: the job's processes still hold corral's stdout and stderr open.
  const exited = new Promise((resolve) => corral.child.once('exit', resolve));
  corral.child.kill('SIGKILL');
  await exited;
  // The dead sentinel passes to init as a zombie, still the run's sentinel by identity: a scan taken
  // before init collects it lists it under the run (the --run filter's extra pid under load). Wait until
  // it is gone from /proc.
  await waitFor(() => readStat(run.sentinel_pid!)?.starttime !== run.sentinel_starttime, 'init to collect the dead sentinel');
  await waitFor(() => readStat(zChild!)?.state === 'Z', 'the zombie');
  await waitFor(() => [gpuPid!, zParent!].every((p) => readStat(p)?.ppid === 1), 'the orphans to be re-parented to init');
  await waitFor(() => rows.every((r) => readStat(r.pid)?.ppid !== run.supervisor_pid), "the run's processes to lose their supervisor");
  await waitFor(() => readStat(stoppedChild.pid!)?.state === 'T', 'the stopped process');
  // The registry may have grown after the first three rows (a transient fork of the fixture): take what
  // it lists once the supervisor is gone, keeping only processes still alive.
  const ledger = openLedger(join(home, 'ledger.sqlite'));
  const runRows = registryOfRun(ledger, run.id).filter((r) => !dead(r.pid, r.starttime));
  ledger.close();
  for (const r of runRows) t.pid(r.pid);
  const kit: StrayKit = {
    token, home, devDir, env, fakeNvml: nvml !== null, runId: run.id, runPids: runRows.map((r) => r.pid), otherUid,
    gpuOrphan: identity(gpuPid!), stopped: identity(stoppedChild.pid!), zombieParent: identity(zParent!), zombie: identity(zChild!),
    bystander: identity(bystanderChild.pid!),
    strayPids: () => [kit.gpuOrphan.pid, kit.stopped.pid, kit.zombieParent.pid, kit.zombie.pid, ...kit.runPids, ...(otherUid ? [otherUid.pid] : [])],
    dispose() {
      // The lost run's cgroup outlives its processes (nobody tore the run down): remove it once they are gone.
      if (run.cgroup) removeCgroup(run.cgroup);
      rmSync(devDir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
  return kit;
}
