import type { PoolItem, PoolSpec, PoolStage } from '../config/pool-spec.ts';
import type { Leftover } from '../supervise/leftovers.ts';

/**
 * The pool's work list: one task per item and stage, and the per-item dependency rule that pipelines
 * stages (evaluate of X starts as soon as sample of X succeeded, while other samples still run).
 */
export type TaskState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'stopped' | 'done-before';

/** What the ledger holds for a task once it has ended (committed before its slot is reused). */
export interface TaskResult {
  jobId: string;
  state: 'succeeded' | 'failed' | 'stopped';
  exitCode: number | null;
  signal: string | null;
  /** exited, timeout, signal, halted, spawn-failed, preflight */
  reason: string;
  /** the timeout(1)-style status: the code, 128+N, 124 on timeout */
  status: number;
  attempts: number;
  startedAt: number;
  endedAt: number;
  logPath: string | null;
  gpu: number | null;
  slot: number;
  /** processes that outlived the task's teardown (EPERM, unkillable) */
  leftovers: Leftover[];
  /** the reason its last attempt ended, when the task was stopped while waiting to retry (a timeout stays known) */
  lastAttemptReason?: string;
}

export interface PoolTask {
  /** `stage.N` (N = item number): the job's name in the ledger and its log file's name */
  name: string;
  item: PoolItem;
  stage: PoolStage;
  state: TaskState;
  result?: TaskResult;
}

export interface PlanCounts {
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  stopped: number;
  running: number;
  pending: number;
  doneBefore: number;
}

/**
 * How a task is recognised across runs, for --resume: its stage, its item's number and its item's text.
 * The number tells repeated items apart (GNU parallel runs `::: a a` twice, and so does corral); the
 * text keeps a pool file whose items changed from counting a different item as done.
 */
export function taskKey(stage: string, itemNumber: number, itemValue: string): string {
  return `${stage}\u0000${itemNumber}\u0000${itemValue}`;
}

/** The item number of a task's job name, `stage.N` (stage names may hold dots; N follows the last). */
export function itemNumberOf(jobName: string): number | null {
  const m = /\.(\d+)$/.exec(jobName);
  return m ? Number(m[1]) : null;
}

export function taskName(stage: string, item: PoolItem): string {
  return `${stage}.${item.index + 1}`;
}

export class PoolPlan {
  /** item by item, each item's stages in dependency order: the order tasks are preferred in */
  readonly tasks: PoolTask[] = [];
  private byItem = new Map<number, PoolTask[]>();
  private cursor = 0;
  /**
   * How many tasks are in each state, kept as they change (every change is made here): the progress
   * line reads it at each task's end, and counting the whole list each time made a pool of n tasks
   * cost n^2 / 2 steps.
   */
  private tally: PlanCounts = { total: 0, succeeded: 0, failed: 0, skipped: 0, stopped: 0, running: 0, pending: 0, doneBefore: 0 };

  constructor(spec: PoolSpec, doneBefore: ReadonlySet<string> = new Set()) {
    for (const item of spec.items) {
      const row: PoolTask[] = [];
      for (const stage of spec.stages) {
        const done = doneBefore.has(taskKey(stage.name, item.index + 1, item.value));
        row.push({ name: taskName(stage.name, item), item, stage, state: done ? 'done-before' : 'pending' });
        this.tally[done ? 'doneBefore' : 'pending']++;
      }
      this.byItem.set(item.index, row);
      this.tasks.push(...row);
    }
    this.tally.total = this.tasks.length;
  }

  private setState(task: PoolTask, state: Exclude<TaskState, 'done-before'>): void {
    this.tally[task.state === 'done-before' ? 'doneBefore' : task.state]--;
    this.tally[state]++;
    task.state = state;
  }

  private stageOf(task: PoolTask, name: string): PoolTask {
    return this.byItem.get(task.item.index)!.find((t) => t.stage.name === name)!;
  }

  private met(task: PoolTask): boolean {
    return task.stage.needs.every((n) => {
      const s = this.stageOf(task, n).state;
      return s === 'succeeded' || s === 'done-before';
    });
  }

  /**
   * The next task to start: the lowest item whose next stage can run. Earlier items go first, so an
   * item's later stages overtake other items' first stages and results arrive item by item.
   */
  nextReady(): PoolTask | undefined {
    while (this.cursor < this.tasks.length && this.tasks[this.cursor]!.state !== 'pending') this.cursor++;
    for (let i = this.cursor; i < this.tasks.length; i++) {
      const t = this.tasks[i]!;
      if (t.state === 'pending' && this.met(t)) return t;
    }
    return undefined;
  }

  /** Marks a started task; its slot is taken until settle(). */
  take(task: PoolTask): void {
    this.setState(task, 'running');
  }

  /** A task that never started (a preflight wait ended by Ctrl-C) goes back to the queue. */
  putBack(task: PoolTask): void {
    this.setState(task, 'pending');
    this.cursor = 0;
  }

  /** Records the end of a task; a failure skips the stages of that item that need it. Returns those. */
  settle(task: PoolTask, result: TaskResult): PoolTask[] {
    task.result = result;
    this.setState(task, result.state);
    if (result.state !== 'failed') return [];
    const skipped: PoolTask[] = [];
    const blocked = new Set([task.stage.name]);
    for (const t of this.byItem.get(task.item.index)!) {
      if (t.state !== 'pending' || !t.stage.needs.some((n) => blocked.has(n))) continue;
      this.setState(t, 'skipped');
      blocked.add(t.stage.name);
      skipped.push(t);
    }
    return skipped;
  }

  counts(): PlanCounts {
    return { ...this.tally };
  }
}
