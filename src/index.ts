/**
 * corral as a library: the same pieces the CLI is made of. Everything here runs the real thing (real
 * processes, /proc, the SQLite ledger); nothing needs the CLI around it.
 */
export { takeSnapshot, readProc, type ProcInfo, type Snapshot, type SnapshotOptions } from './proc/snapshot.ts';
export { readIdentity, isAlive, type Identity } from './proc/identity.ts';
export { signalIdentity, type SignalResult } from './proc/signal.ts';
export { descendants, ancestors } from './proc/tree.ts';
export { setUpRunCgroup, findCgroup2Mount, type Containment } from './os/cgroup.ts';
export { teardown, type TeardownOptions, type TeardownResult } from './supervise/teardown.ts';
export type { JobScope, Member } from './supervise/scope.ts';
export { runMain, type RunOptions, type RunResult } from './jobs/run-main.ts';
export { runPool, type PoolRunOptions, type PoolResult } from './jobs/pool-run.ts';
export { loadPoolFile } from './config/pool-file.ts';
export { scanStrays, scanToJson, type StrayScan } from './strays/scan.ts';
export { buildPlan, type ReapPlan } from './reap/plan.ts';
export { executePlan, type ReapResult } from './reap/execute.ts';
export { probeGpus, type ProbeGpusOptions } from './gpu/probe.ts';
export type { GpuView, GpuDevice, GpuProcess } from './gpu/types.ts';
export { openLedger, type Db } from './ledger/db.ts';
export { corralHome, ledgerPath } from './ledger/location.ts';
export { parseDuration } from './config/duration.ts';
export { UsageError } from './config/errors.ts';
