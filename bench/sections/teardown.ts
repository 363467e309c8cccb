import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cleanUpCorralHome, registryListsAll } from '../lib/corral-home.ts';
import { renderTable, type Section } from '../lib/report.ts';
import { BIN, NODE, WORKLOADS, makeScratchDir } from '../lib/paths.ts';
import { findMarked, killMarked, newToken, pollUntil } from '../lib/procs.ts';
import { formatSpread, formatRatio, summarize } from '../lib/stats.ts';
import { DeathWatch } from '../lib/measure.ts';

export interface TeardownConfig {
  reps: number;
  /** nodes x leaves: 20 x 24 gives 500 processes under the root */
  size: number;
  graceMs: number;
  treeKillReps: number;
  has: (peer: string) => boolean;
}

type Method = 'floor' | 'tree-kill' | 'corral' | 'corral-off';
type Shape = 'honour' | 'ignore';
const LABEL: Record<Method, string> = {
  floor: 'kill -TERM -- -PGID, then kill -KILL (the floor)',
  'tree-kill': 'tree-kill: treeKill(root, SIGTERM), then SIGKILL',
  corral: 'corral run (cgroup2), SIGTERM to corral',
  'corral-off': 'corral run (CORRAL_CGROUP=off), SIGTERM to corral',
};
// loaded only when tree-kill is installed, so a machine without it still measures the other rows
let killTree: ((pid: number, signal: string) => Promise<void>) | undefined;

/** One stop: build the tree, wait until it is whole (and corral has registered it), stop it, time the last death. */
async function stopOnce(method: Method, shape: Shape, cfg: TeardownConfig): Promise<{ ms: number | null; left: number }> {
  const mark = newToken();
  const home = makeScratchDir('teardown');
  const nodes = 20;
  const leaves = Math.round(cfg.size / nodes) - 1;
  const tree = ['bash', join(WORKLOADS, 'tree.sh'), mark, String(nodes), String(leaves), shape];
  const corral = method.startsWith('corral');
  const child: ChildProcess = corral
    ? spawn(NODE, [BIN, 'run', '-q', '--grace', `${cfg.graceMs}ms`, '--', ...tree], { detached: true, stdio: 'ignore', env: { ...process.env, CORRAL_HOME: home, CORRAL_CGROUP: method === 'corral' ? 'on' : 'off' } })
    : spawn(tree[0]!, tree.slice(1), { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  const total = 1 + nodes + nodes * leaves;
  try {
    let ids = findMarked(`${mark}:`);
    if (!(await pollUntil(() => (ids = findMarked(`${mark}:`)).length >= total, 60_000, 100))) throw new Error(`tree of ${total} did not come up (${ids.length})`);
    if (corral && !(await pollUntil(() => registryListsAll(home, ids), 30_000, 50))) throw new Error('corral did not register the tree');
    const watch = new DeathWatch(ids);
    const t0 = performance.now();
    const root = child.pid!; // tree.sh execs into the root process
    if (method === 'floor') {
      process.kill(-child.pid!, 'SIGTERM');
      if (!(await watch.until(t0 + cfg.graceMs))) process.kill(-child.pid!, 'SIGKILL');
    } else if (method === 'tree-kill') {
      await killTree!(root, 'SIGTERM').catch(() => {});
      if (!(await watch.until(t0 + cfg.graceMs))) await killTree!(root, 'SIGKILL').catch(() => {});
    } else {
      child.kill('SIGTERM');
    }
    // corral gets its grace and its unkillable timeout; the others have done all they do once they return
    const done = await watch.until(corral ? t0 + cfg.graceMs + 10_000 : performance.now() + 3000);
    return { ms: done ? watch.goneAt! - t0 : null, left: watch.left() };
  } finally {
    await killMarked(mark);
    if (corral) cleanUpCorralHome(home);
  }
}

/** Teardown latency: from the stop request until the last process of a 500-process tree is gone. */
export async function measureTeardown(cfg: TeardownConfig, log: (s: string) => void): Promise<Section> {
  const section: Section = { title: '2. Teardown latency', body: [], goals: [], findings: [] };
  const methods: Method[] = ['floor', ...(cfg.has('tree-kill') ? (['tree-kill'] as const) : []), 'corral', 'corral-off'];
  if (cfg.has('tree-kill')) killTree = promisify((await import('tree-kill')).default) as typeof killTree;
  const shapes: Shape[] = ['honour', 'ignore'];
  const runs = new Map<string, { ms: number | null; left: number }[]>();
  for (let rep = 0; rep < cfg.reps; rep++)
    for (const shape of shapes)
      for (const m of methods) {
        // tree-kill runs ps once per process in the tree (over 10 s for 500): one run per tree is enough
        if (m === 'tree-kill' && rep >= cfg.treeKillReps) continue;
        const r = await stopOnce(m, shape, cfg);
        runs.set(`${m}|${shape}`, [...(runs.get(`${m}|${shape}`) ?? []), r]);
        log(`  teardown ${m} ${shape}: ${r.ms === null ? `${r.left} left` : `${r.ms.toFixed(0)} ms`}`);
      }
  const cell = (m: Method, shape: Shape) => {
    const rs = runs.get(`${m}|${shape}`) ?? [];
    const ok = rs.filter((r) => r.ms !== null).map((r) => r.ms!);
    const failed = rs.filter((r) => r.ms === null);
    const text = ok.length ? formatSpread(summarize(ok), ' ms') : '—';
    return failed.length ? `${text}; ${failed.length}/${rs.length} runs left ${formatSpread(summarize(failed.map((r) => r.left)), '', String)} alive for good` : text;
  };
  const median = (m: Method, shape: Shape) => summarize((runs.get(`${m}|${shape}`) ?? []).filter((r) => r.ms !== null).map((r) => r.ms!)).median;
  const rows = methods.map((m) => [LABEL[m], cell(m, 'honour'), formatRatio(median(m, 'honour'), median('floor', 'honour')), cell(m, 'ignore'), formatRatio(median(m, 'ignore'), median('floor', 'ignore'))]);
  const total = 1 + 20 + 20 * (Math.round(cfg.size / 20) - 1);
  section.body.push(
    `A tree of ${total} processes (a root, 20 nodes, ${total - 21} leaves; bench/workloads/tree.sh) stopped with a ${cfg.graceMs / 1000} s grace before SIGKILL. ` +
      `Time from the stop request until the last process of the tree is gone (a zombie counts as gone), median (min–max) of ${cfg.reps} runs (tree-kill: ${cfg.treeKillReps}, as it takes over 10 s a run). ` +
      'corral is measured once its registry lists the whole tree (a job that has been running a while); the clock starts when SIGTERM is sent to corral.',
    renderTable(['method', 'all honour SIGTERM', 'vs floor', 'half ignore SIGTERM', 'vs floor'], rows),
  );
  if (!cfg.has('tree-kill')) section.body.push('tree-kill: not measured: the tree-kill module is not installed.');
  const r = median('corral', 'honour') / median('floor', 'honour');
  section.goals.push(`Teardown of ${total} TERM-honouring processes within 1.5x of the floor: corral (cgroup2) ${formatRatio(median('corral', 'honour'), median('floor', 'honour'))}, fallback ${formatRatio(median('corral-off', 'honour'), median('floor', 'honour'))}: ${r <= 1.5 ? 'met' : 'NOT met'}`);
  return section;
}
