import type { PoolSlot } from '../config/pool-spec.ts';
import { formatDuration } from '../config/duration.ts';
import { paint } from '../cli/output.ts';
import type { PoolPlan, PoolTask } from './pool-plan.ts';
import type { PoolObserver } from './pool-run.ts';

/**
 * What a person watching `corral pool` sees. On a terminal: a live block (per GPU: the running tasks
 * and their age; totals done/failed/left; ETA) redrawn in place, with failures and notes scrolling
 * above it. Otherwise plain lines, one per ended task, so a log file or CI output reads well.
 */
export type ProgressMode = 'live' | 'plain' | 'quiet';

export interface ProgressOptions {
  mode: ProgressMode;
  stream?: NodeJS.WriteStream;
  refreshMs?: number;
}

const MAX_ROWS = 16;

export function describeTask(t: PoolTask): string {
  const item = t.item.value.length > 40 ? `${t.item.value.slice(0, 37)}...` : t.item.value;
  return `${t.name} (${item})`;
}

/** exit 3 / killed by SIGKILL / timed out / stopped, for a task that did not succeed. */
export function describeEnd(t: PoolTask): string {
  const r = t.result;
  if (!r) return t.state;
  if (r.reason === 'timeout') return 'timed out';
  if (r.reason === 'preflight') return 'refused by preflight';
  if (r.reason === 'signal' || r.reason === 'halted') return `stopped (${r.reason === 'signal' ? 'interrupted' : 'halt'})`;
  if (r.reason === 'spawn-failed') return `could not start (exit ${r.status})`;
  return r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
}

export function createProgress(opts: ProgressOptions): PoolObserver {
  const out = opts.stream ?? process.stderr;
  const live = opts.mode === 'live';
  const quiet = opts.mode === 'quiet';
  let plan: PoolPlan | null = null;
  let slots: PoolSlot[] = [];
  const onSlot = new Map<number, { task: PoolTask; since: number }>();
  const waits = new Map<number, string>();
  let began = Date.now();
  let drawn = 0;
  let timer: NodeJS.Timeout | null = null;

  const totals = (): string => {
    const c = plan!.counts();
    const finished = c.succeeded + c.failed + c.stopped;
    const left = c.pending + c.running;
    const elapsed = Date.now() - began;
    const eta = finished && left ? formatDuration((elapsed / finished) * left) : left ? '?' : '0s';
    const failed = c.failed ? paint(`failed ${c.failed}`, 'red', out) : 'failed 0';
    const extra = `${c.skipped ? `  skipped ${c.skipped}` : ''}${c.doneBefore ? `  done before ${c.doneBefore}` : ''}`;
    return `done ${c.succeeded}/${c.total - c.doneBefore}  ${failed}${extra}  left ${left}  elapsed ${formatDuration(elapsed)}  ETA ${eta}`;
  };
  const slotText = (s: PoolSlot): string => {
    const r = onSlot.get(s.index);
    return r ? `${describeTask(r.task)} ${formatDuration(Date.now() - r.since)}` : paint('idle', 'dim', out);
  };
  const block = (): string[] => {
    const rows: string[] = [];
    const gpus = [...new Set(slots.map((s) => s.gpu))];
    for (const g of gpus) {
      if (rows.length >= MAX_ROWS) break;
      const mine = slots.filter((s) => s.gpu === g);
      const label = g === null ? '' : `GPU ${g}  `;
      const wait = g !== null ? waits.get(g) : undefined;
      if (g === null) for (const s of mine.filter((x) => onSlot.has(x.index)).slice(0, MAX_ROWS)) rows.push(`slot ${s.index}  ${slotText(s)}`);
      else rows.push(`${label}${mine.map(slotText).join('  |  ')}${wait ? paint(`  waiting: ${wait}`, 'yellow', out) : ''}`);
    }
    rows.push(paint(totals(), 'bold', out));
    return rows;
  };
  const clear = () => {
    if (drawn) out.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    if (!live || !plan) return;
    clear();
    const cols = out.columns || 120;
    const rows = block().map((r) => (r.length > cols + 20 ? r.slice(0, cols + 20) : r));
    out.write(rows.join('\n') + '\n');
    drawn = rows.length;
  };
  const line = (text: string) => {
    if (quiet) return;
    clear();
    out.write(text + '\n');
    draw();
  };

  return {
    begin(_runId, p, s) {
      plan = p;
      slots = s;
      began = Date.now();
      if (live) {
        timer = setInterval(draw, opts.refreshMs ?? 500);
        timer.unref();
      }
    },
    started(task, slot) {
      onSlot.set(slot.index, { task, since: Date.now() });
      if (live) draw();
    },
    retrying(task, attempt, delayMs) {
      line(paint(`retry ${describeTask(task)}: attempt ${attempt} in ${formatDuration(delayMs)}`, 'yellow', out));
    },
    ended(task, skipped) {
      const r = task.result!;
      onSlot.delete(r.slot);
      const where = r.gpu === null ? '' : ` on GPU ${r.gpu}`;
      const took = formatDuration(r.endedAt - r.startedAt);
      const tries = r.attempts > 1 ? `, ${r.attempts} attempts` : '';
      if (task.state === 'succeeded') {
        if (!live) line(`[${totals()}] ok ${describeTask(task)}${where} ${took}${tries}`);
        else draw();
      } else {
        const log = r.logPath ? `; log ${r.logPath}` : '';
        line(`${live ? '' : `[${totals()}] `}${paint(task.state === 'stopped' ? 'STOPPED' : 'FAILED', 'red', out)} ${describeTask(task)}${where}: ${describeEnd(task)} after ${took}${tries}${log}`);
      }
      for (const s of skipped) line(`skipped ${describeTask(s)}: ${task.stage.name} failed`);
    },
    waiting(gpu, why) {
      if (why === null) waits.delete(gpu);
      else if (!waits.has(gpu)) {
        waits.set(gpu, why);
        if (!live) line(`preflight: waiting for GPU ${gpu}: ${why}`);
      }
      draw();
    },
    note(text) {
      line(`${paint('corral:', 'cyan', out)} ${text}`);
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
      clear();
    },
  };
}
