import { renderTable, type Section } from '../lib/report.ts';
import { join } from 'node:path';
import { BIN, NODE, WORKLOADS, makeScratchDir } from '../lib/paths.ts';
import { formatSpread, formatRatio, summarize } from '../lib/stats.ts';
import { hasCorralCommand, timeCommand } from '../lib/measure.ts';

export interface PoolConfig {
  reps: number;
  tasks: number;
  slots: number;
  has: (peer: string) => boolean;
}

interface Tool {
  label: string;
  run: (items: string[]) => { ms: number; status: number | null; stderr: string };
  total: number[];
}

/** Pool overhead: `tasks` trivial tasks (`true`) with `slots` at once; per task = (total - ideal) / tasks, ideal = 0. */
export async function measurePool(cfg: PoolConfig, log: (s: string) => void): Promise<Section> {
  const section: Section = { title: '4. Pool overhead', body: [], goals: [], findings: [] };
  const items = Array.from({ length: cfg.tasks }, (_, i) => String(i + 1));
  const home = makeScratchDir('pool');
  const env = { ...process.env, CORRAL_HOME: home, NO_COLOR: '1' };
  const pool = hasCorralCommand(NODE, BIN, 'pool');
  const tools: Tool[] = [];
  if (pool) tools.push({ label: `\`corral pool --jobs ${cfg.slots} -- true ::: 1 … ${cfg.tasks}\``, run: (it) => timeCommand([NODE, BIN, 'pool', '--jobs', String(cfg.slots), '-q', '--', 'true', ':::', ...it], env), total: [] });
  if (cfg.has('parallel')) tools.push({ label: `\`parallel -j${cfg.slots} true ::: 1 … ${cfg.tasks}\``, run: (it) => timeCommand(['parallel', '--will-cite', `-j${cfg.slots}`, 'true', ':::', ...it]), total: [] });
  const spawnLoop = (mode: string) => () => {
    const r = timeCommand([NODE, join(WORKLOADS, 'spawn-loop.ts'), String(cfg.tasks), String(cfg.slots), mode]);
    return { ...r, ms: Number(r.stdout) }; // the loop's own time, without Node's start-up
  };
  tools.push({ label: `Node \`child_process.spawn('true')\`, ${cfg.slots} in flight (a Node supervisor on Node's own spawn, which forks the whole process; timed inside Node)`, run: spawnLoop('node'), total: [] });
  tools.push({ label: `corral's task start alone: posix_spawn of \`true\` on a worker thread, exits collected on SIGCHLD, ${cfg.slots} in flight (the floor of corral's pool; timed inside Node)`, run: spawnLoop('posix'), total: [] });
  tools.push({ label: `\`xargs -P${cfg.slots} -n1 true\` (reference)`, run: (it) => timeCommand(['xargs', `-P${cfg.slots}`, '-n1', 'true'], undefined, it.join('\n') + '\n'), total: [] });
  const node: number[] = [];
  for (let i = 0; i < cfg.reps; i++) {
    node.push(timeCommand([NODE, '-e', '0']).ms);
    for (const t of tools) {
      const r = t.run(items);
      if (r.status !== 0) throw new Error(`${t.label} failed (${r.status}): ${r.stderr.slice(0, 400)}`);
      t.total.push(r.ms);
    }
    log(`  pool round ${i + 1}/${cfg.reps}: ${tools.map((t) => `${t.total.at(-1)!.toFixed(0)} ms`).join(', ')}`);
  }
  const nodeMs = summarize(node).median;
  const perTask = (t: Tool, lessNode = false) => summarize(t.total.map((ms) => (ms - (lessNode ? nodeMs : 0)) / cfg.tasks));
  const xargs = tools[tools.length - 1]!;
  const rows = tools.map((t) => [t.label, formatSpread(summarize(t.total), ' ms'), formatSpread(perTask(t), ' ms'), t === tools[0] && pool ? formatSpread(perTask(t, true), ' ms') : '', formatRatio(perTask(t).median, perTask(xargs).median)]);
  section.body.push(
    `${cfg.tasks} tasks of \`true\` with ${cfg.slots} slots, median (min–max) of ${cfg.reps} rounds, each round running every tool once. ` +
      'Per-task overhead = (total − ideal) / tasks with ideal = 0, since `true` does no work: the fork and exec of `true` itself, which every tool pays, is in every figure. ' +
      `corral also pays Node's start-up once per run (\`node -e 0\`: ${formatSpread(summarize(node), ' ms')}); the column "less Node start-up" takes it off.`,
    renderTable(['tool', 'total', 'per task', 'per task less Node start-up', 'vs xargs'], rows),
  );
  if (!pool) {
    section.body.push('corral pool: not measured: corral pool not available yet.');
    section.goals.push('Pool overhead under 1 ms per task: not measured: corral pool not available yet');
  } else {
    const c = perTask(tools[0]!).median;
    const nodeLoop = perTask(tools.at(-3)!).median;
    const floor = perTask(tools.at(-2)!).median; // corral's own task start, with nothing else
    if (cfg.has('parallel')) {
      const p = perTask(tools[1]!).median;
      section.goals.push(`Pool: corral faster than GNU parallel in the same run: corral ${c.toFixed(2)} ms/task, GNU parallel ${p.toFixed(2)} ms/task (${formatRatio(c, p)}): ${c < p ? 'met' : 'NOT met'}`);
    } else section.goals.push('Pool: corral faster than GNU parallel in the same run: not measured: GNU parallel is not installed');
    section.goals.push(`Pool overhead toward xargs (under 1 ms per task): corral ${c.toFixed(2)} ms/task, xargs ${perTask(xargs).median.toFixed(2)} ms/task: ${c < 1 ? 'met' : 'NOT met'}; corral's task start alone (posix_spawn, its floor) ${floor.toFixed(2)} ms/task, corral ${formatRatio(c, floor)} of it; Node's own spawn loop ${nodeLoop.toFixed(2)} ms/task`);
  }
  return section;
}
