import { ChildProcess } from 'node:child_process';
import { reapChild } from '../os/ffi.ts';
import type { Snapshot } from '../proc/snapshot.ts';

/** Pids Node itself spawned: libuv reaps those, and waiting for them here would steal their status. */
export const ownChildren = new Set<number>();

// Every asynchronous child Node starts (spawn, exec, execFile, fork) goes through ChildProcess#spawn, so
// recording pids there covers all of them: the jobs, the sentinel, nvidia-smi, a test's own children.
// (spawnSync reaps its child before returning, so no reaper pass can come in between.)
type SpawnMethod = (this: ChildProcess, ...args: unknown[]) => unknown;
const proto = ChildProcess.prototype as unknown as { spawn: SpawnMethod };
const nodeSpawn = proto.spawn;
proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
  const result = nodeSpawn.apply(this, args);
  const pid = this.pid;
  if (pid !== undefined) {
    ownChildren.add(pid);
    this.once('exit', () => ownChildren.delete(pid));
  }
  return result;
};

/**
 * The wait status of each zombie reapAdopted took, by pid, for a while. A child corral started through
 * posix_spawn (native-child.ts) joins ownChildren only once the spawn's result reaches the main thread; if it
 * exited before that and a reaper pass took it for an adopted orphan, its exit status is found here.
 */
const REAPED_KEPT = 1024;
export const reapedStatuses = new Map<number, number>();

function keepStatus(pid: number, status: number): void {
  reapedStatuses.delete(pid);
  reapedStatuses.set(pid, status);
  if (reapedStatuses.size > REAPED_KEPT) reapedStatuses.delete(reapedStatuses.keys().next().value!);
}

/**
 * As a child subreaper, corral inherits orphans and must reap them when they exit, as tini does.
 * It waits only for zombies it adopted, by pid: waitpid(-1) would also take libuv's children.
 */
export function reapAdopted(snap: Snapshot): number {
  let reaped = 0;
  for (const p of snap.values()) {
    if (p.ppid !== process.pid || p.state !== 'Z' || ownChildren.has(p.pid)) continue;
    try {
      const status = reapChild(p.pid);
      if (status === null) continue;
      keepStatus(p.pid, status);
      reaped++;
    } catch {
      return reaped; // no koffi: nothing can be adopted either, since the subreaper bit needs it too
    }
  }
  return reaped;
}
