import type { Identity } from '../proc/identity.ts';

/** Everything that ties processes to one job; members are the union of what each part finds. */
export interface JobScope {
  runId: string;
  jobId: string;
  /** the job's cgroup directory, when cgroups are in use */
  cgroup?: string | null;
  /** the current attempt's leader: its session and process group (pid = sid = pgid after setsid) */
  leader?: Identity | null;
  /** live registry identities of this job */
  registry?: Identity[];
  /** processes re-parented to this pid (the supervisor, a subreaper) count as members */
  adopter?: number | null;
  /** processes started before this (clock ticks since boot) cannot be members */
  sinceTicks: number;
  /** the uid the job runs as: a marker on another uid's process does not make it a member */
  uid?: number | null;
  /** match CORRAL_RUN_ID alone (the whole run) instead of CORRAL_JOB_ID */
  wholeRun?: boolean;
  /** the run's only job (corral run without sidecars): an unmarked orphan the supervisor adopted can be no other job's */
  soleJob?: boolean;
}

/** How a member was found; the first mechanism that found it is recorded in the registry. */
export type FoundBy = 'cgroup' | 'session' | 'tree' | 'adopted' | 'marker' | 'registry';

export interface Member extends Identity {
  jobId: string;
  how: FoundBy;
}
