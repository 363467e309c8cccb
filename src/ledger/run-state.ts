import { currentBootId } from '../proc/clock.ts';
import { isAlive } from '../proc/identity.ts';
import { fromEarlierBoot, type RunRow, type RunStatus } from './runs.ts';

/** A run as it is now, not only as its row says: a row left 'running' by a supervisor that died is lost. */
export interface RunState {
  /** the status to show: 'lost' for a row still 'running' whose supervisor and sentinel are both gone */
  status: RunStatus;
  /** the row's own status */
  recorded: RunStatus;
  supervisorAlive: boolean;
  sentinelAlive: boolean;
  /** recorded 'running', but nothing of corral is left to end it: it stays so until stop or reap records it */
  lostUnrecorded: boolean;
  /** started in an earlier boot: the machine rebooted since, so nothing of it can be alive */
  earlierBoot: boolean;
}

/** The stop reason to show for a run that is lost but was never recorded so. */
export function unrecordedReason(state: RunState): string | null {
  if (!state.lostUnrecorded) return null;
  return state.earlierBoot ? 'rebooted' : 'supervisor-lost';
}

function alive(pid: number | null, starttime: number | null): boolean {
  return pid !== null && pid > 0 && starttime !== null && isAlive({ pid, starttime });
}

/**
 * The liveness of a run's supervisor and sentinel (one rule: a zombie is dead; a run of an earlier boot
 * has nothing alive, whatever its pids name now). A row whose sentinel was never recorded (corral
 * SIGKILLed during start-up) has only its supervisor to go by.
 */
export function runState(run: RunRow, bootId = currentBootId()): RunState {
  const earlier = fromEarlierBoot(run, bootId);
  const supervisorAlive = !earlier && alive(run.supervisor_pid, run.supervisor_starttime);
  const sentinelAlive = !earlier && alive(run.sentinel_pid, run.sentinel_starttime);
  const lostUnrecorded = run.status === 'running' && !supervisorAlive && !sentinelAlive;
  return { status: lostUnrecorded ? 'lost' : run.status, recorded: run.status, supervisorAlive, sentinelAlive, lostUnrecorded, earlierBoot: earlier };
}
