import { formatDuration } from '../config/duration.ts';
import type { PoolResult } from '../jobs/pool-run.ts';
import { summarizeCounts } from '../jobs/pool-summary.ts';
import type { PoolTask } from '../jobs/pool-plan.ts';
import { paint } from './colour.ts';
import { table } from './table.ts';
import { describeEnd, describeTask, timedOut } from './task-text.ts';

/** The end of a pool: a table per stage, the tasks that did not succeed (the JSON is src/jobs/pool-summary.ts). */
const MAX_LISTED = 20;

/** failed before stopped, and timed-out first: an interrupted pool's stopped tasks must not hide them */
const rank = (t: PoolTask) => (timedOut(t) ? 0 : t.state === 'failed' ? 1 : 2);

export function renderPoolSummary(r: PoolResult, stream: NodeJS.WriteStream = process.stderr): string {
  const stages = [...new Set(r.tasks.map((t) => t.stage.name))];
  const rows = stages.map((s) => {
    const mine = r.tasks.filter((t) => t.stage.name === s);
    const c = summarizeCounts(mine);
    const ran = mine.filter((t) => t.result && t.result.reason !== 'preflight');
    const mean = ran.length ? formatDuration(ran.reduce((a, t) => a + t.result!.endedAt - t.result!.startedAt, 0) / ran.length) : '-';
    const failed = c.failed ? paint(String(c.failed), 'red', stream) : '0';
    const late = mine.filter(timedOut).length;
    return [s, String(c.succeeded), failed, late ? paint(String(late), 'red', stream) : '0', String(c.skipped), String(c.stopped + c.notStarted), String(c.doneBefore), mean];
  });
  let text = table(rows, ['stage', 'ok', 'failed', 'timed out', 'skipped', 'not run', 'done before', 'mean time'], stream);
  const bad = r.tasks.filter((t) => t.state === 'failed' || t.state === 'stopped').sort((a, b) => rank(a) - rank(b));
  if (bad.length) {
    const list = bad.slice(0, MAX_LISTED).map((t) => [describeTask(t), t.result?.gpu === null || !t.result ? '-' : `GPU ${t.result.gpu}`, describeEnd(t), String(t.result?.attempts ?? 0), t.result?.logPath ?? '-']);
    text += '\n' + table(list, ['task', 'gpu', 'end', 'attempts', 'log'], stream);
    if (bad.length > MAX_LISTED) text += `... and ${bad.length - MAX_LISTED} more (corral show ${r.runId} lists every task)\n`;
  }
  const end = r.status === 'succeeded' ? paint('succeeded', 'green', stream) : paint(r.status, 'red', stream);
  const resume = r.status === 'succeeded' ? '' : `; run what did not succeed with: corral pool --resume ${r.runId}`;
  text += `\nrun ${r.runId} ${end} in ${formatDuration(r.endedAt - r.startedAt)} (exit status ${r.exitCode})${resume}\n`;
  return text;
}
