import { formatDuration } from '../config/duration.ts';
import { loadGuardPolicy } from './loop.ts';
import { guardPass } from './pass.ts';
import { openScratchState } from './state.ts';

export interface CheckRow {
  pid: number;
  user: string;
  reasons: string;
  severity: string;
  would: string;
  command: string;
}

/** A pass against a scratch copy of the guard's state: what the policy would do now, with nothing sent, signalled or written. */
export async function checkPolicy(flag?: string): Promise<{ policy: string; strays: CheckRow[] }> {
  const loaded = loadGuardPolicy(flag);
  const state = openScratchState();
  try {
    const res = await guardPass({ ...loaded, state, graceMs: 0, act: false });
    const strays = res.judged.map(({ stray: s, decision: d }) => ({
      pid: s.pid, user: s.user, reasons: s.reasons.map((r) => r.reason).join(','), severity: s.severity, command: s.command,
      would: d.skip ? `skip: ${d.skip}` : [d.notify && 'notify', d.reap && 'reap'].filter(Boolean).join(' + ') || (d.reapInMs !== undefined ? `reap in ${formatDuration(d.reapInMs)}` : 'nothing yet'),
    }));
    return { policy: loaded.policy.source, strays };
  } finally {
    state.close();
  }
}
