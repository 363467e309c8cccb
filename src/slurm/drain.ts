import { spawnSync } from 'node:child_process';

/** Longest reason scontrol is given; Slurm shows it in sinfo -R, where a screenful is too much. */
const MAX_REASON = 200;

/**
 * Drains the node with corral's reason. Slurm drains it anyway when a hook exits non-zero, but with
 * the bare "Epilog error"; this names what was left. Best effort and bounded: the exit status is what
 * Slurm acts on.
 */
export function drainNode(node: string | undefined, reason: string): boolean {
  if (!node) return false;
  const r = spawnSync('scontrol', ['update', `NodeName=${node}`, 'State=DRAIN', `Reason=${reason.replace(/\s+/g, ' ').slice(0, MAX_REASON)}`], {
    stdio: 'ignore', timeout: 5000, env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/bin:/bin` },
  });
  return r.status === 0;
}
