import type { PoolSlot } from '../config/pool-spec.ts';
import { formatDuration } from '../config/duration.ts';
import type { PoolPlan, PoolTask } from '../jobs/pool-plan.ts';
import type { PoolObserver } from '../jobs/pool-run.ts';
import { paint } from './colour.ts';
import { readLogTail } from './log-tail.ts';
import { describeEnd, describeTask } from './task-text.ts';
import { displayWidth, fitLine } from './width.ts';
import { monotonicMs } from '../proc/clock.ts';

/**
 * What a person watching `corral pool` sees. On a terminal: a live block (per GPU: the running tasks
 * and their age; totals done/failed/left; ETA) redrawn in place, with failures and notes scrolling
 * above it. Otherwise plain lines, one per ended task, so a log file or CI output reads well.
 *
 * The block is redrawn by moving the cursor up over the last frame, so every row must take exactly one
 * terminal line: rows are cut to the window's width in display columns (escapes count 0, CJK 2), names
 * are shortened in the middle first, and a window made narrower since the last frame is allowed for.
 */
export type ProgressMode = 'live' | 'plain' | 'quiet';

export interface ProgressOptions {
  mode: ProgressMode;
  stream?: NodeJS.WriteStream;
  refreshMs?: number;
}

const MAX_ROWS = 16;
/** lines of a failed task's log shown under its FAILED line */
const TAIL_LINES = 3;

export function createProgress(opts: ProgressOptions): PoolObserver {
  const out = opts.stream ?? process.stderr;
  const live = opts.mode === 'live';
  const quiet = opts.mode === 'quiet';
  let plan: PoolPlan | null = null;
  let slots: PoolSlot[] = [];
  const onSlot = new Map<number, { task: PoolTask; since: number }>();
  const waits = new Map<number, string>();
  let began = monotonicMs();
  /** display widths of the rows of the frame on screen, to know how many lines it takes now */
  let drawn: number[] = [];
  let timer: NodeJS.Timeout | null = null;
  // one column spare: a row that fills the last column leaves some terminals in a pending wrap
  const width = () => Math.max(20, (out.columns || 120) - 1);

  const totals = (): string => {
    const c = plan!.counts();
    const finished = c.succeeded + c.failed + c.stopped;
    const left = c.pending + c.running;
    const elapsed = monotonicMs() - began;
    const eta = finished && left ? formatDuration((elapsed / finished) * left) : left ? '?' : '0s';
    const failed = c.failed ? paint(`failed ${c.failed}`, 'red', out) : 'failed 0';
    const extra = `${c.skipped ? `  skipped ${c.skipped}` : ''}${c.doneBefore ? `  done before ${c.doneBefore}` : ''}`;
    return `done ${c.succeeded}/${c.total - c.doneBefore}  ${failed}${extra}  left ${left}  elapsed ${formatDuration(elapsed)}  ETA ${eta}`;
  };
  /** one slot in `cols` columns: the item gets what the name and the age leave */
  const slotText = (s: PoolSlot, cols: number): string => {
    const r = onSlot.get(s.index);
    if (!r) return paint('idle', 'dim', out);
    const age = ` ${formatDuration(monotonicMs() - r.since)}`;
    const fixed = displayWidth(describeTask(r.task, 0).replace(/\(.*\)$/, '()')) + age.length;
    return `${describeTask(r.task, Math.min(40, cols - fixed))}${age}`;
  };
  const block = (): string[] => {
    const cols = width();
    const rows: string[] = [];
    const maxRows = Math.max(2, Math.min(MAX_ROWS, (out.rows || 40) - 2));
    const gpus = [...new Set(slots.map((s) => s.gpu))];
    for (const g of gpus) {
      if (rows.length >= maxRows - 1) break;
      const mine = slots.filter((s) => s.gpu === g);
      const wait = g !== null ? waits.get(g) : undefined;
      if (g === null) {
        // every slot, idle ones too: a block of constant height redraws calmly
        for (const s of mine) {
          if (rows.length >= maxRows - 1) break;
          const label = `slot ${s.index}  `;
          rows.push(`${label}${slotText(s, cols - label.length)}`);
        }
      } else {
        const label = `GPU ${g}  `;
        const each = Math.floor((cols - label.length - 5 * (mine.length - 1)) / mine.length);
        rows.push(`${label}${mine.map((s) => slotText(s, each)).join('  |  ')}${wait ? paint(`  waiting: ${wait}`, 'yellow', out) : ''}`);
      }
    }
    rows.push(paint(totals(), 'bold', out));
    return rows.map((r) => fitLine(r, cols));
  };
  /** the sequence that erases the last frame: up over the lines it takes at today's width (a narrowed window wrapped its rows) */
  const erase = (): string => {
    if (!drawn.length) return '';
    const cols = out.columns || 120;
    const lines = drawn.reduce((n, w) => n + Math.max(1, Math.ceil(w / cols)), 0);
    drawn = [];
    return `\r\x1b[${lines}A\x1b[0J`;
  };
  const clear = () => {
    const seq = erase();
    if (seq) out.write(seq);
  };
  /** one write per frame (erase, lines above, new block): the terminal never shows half a frame */
  const draw = (above = '') => {
    if (!live || !plan) {
      if (above) out.write(above);
      return;
    }
    const rows = block();
    out.write(erase() + above + rows.join('\n') + '\n');
    drawn = rows.map(displayWidth);
  };
  const line = (text: string) => {
    if (quiet) return;
    draw(text + '\n');
  };

  return {
    begin(_runId, p, s) {
      plan = p;
      slots = s;
      began = monotonicMs();
      if (live) {
        timer = setInterval(draw, opts.refreshMs ?? 500);
        timer.unref();
      }
    },
    started(task, slot) {
      onSlot.set(slot.index, { task, since: monotonicMs() });
      if (live) draw();
    },
    retrying(task, attempt, delayMs, why) {
      const before = why ? `attempt ${attempt - 1} ${why}; ` : '';
      line(paint(`retry ${describeTask(task)}: ${before}attempt ${attempt} in ${formatDuration(delayMs)}`, 'yellow', out));
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
        const head = `${live ? '' : `[${totals()}] `}${paint(task.state === 'stopped' ? 'STOPPED' : 'FAILED', 'red', out)} ${describeTask(task)}${where}: ${describeEnd(task)} after ${took}${tries}${log}`;
        // the next question is "why": the last lines the task wrote, escaped and bounded
        const tail = task.state === 'failed' ? readLogTail(r.logPath, TAIL_LINES, live ? width() - 4 : 200) : [];
        line([head, ...tail.map((l) => paint(`  | ${l}`, 'dim', out))].join('\n'));
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
