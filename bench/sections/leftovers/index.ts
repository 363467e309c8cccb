import { writeFileSync } from 'node:fs';
import { renderTable, type Section } from '../../lib/report.ts';
import { SharedScan } from '../../lib/procs.ts';
import { formatCount, formatSpread, runInParallel, summarize } from '../../lib/stats.ts';
import { ENDINGS, runCell, type CellResult, type Ending } from './cell.ts';
import { SUPERVISORS, WORKLOADS, hasFixtures, type Supervisor, type Workload } from './matrix.ts';

export interface LeftoverConfig {
  reps: number;
  /** cells in flight at once: a cell mostly waits, so many share the two cores */
  width: number;
  timeoutS: number;
  afterMs: number;
  /** whether a peer (apt package or npm module) is installed */
  has: (peer: string) => boolean;
  /** where to write every cell's survivors and notes as JSON (for working out why a tool leaks) */
  details?: string;
}

const ENDING_TEXT: Record<Ending, string> = {
  timeout: 'the supervisor\'s own timeout (T = {T} s) fires',
  SIGTERM: 'SIGTERM to the supervisor once the workload is up',
  SIGKILL: 'SIGKILL to the supervisor once the workload is up (corral: once its registry lists every process)',
};

/** The headline table: processes still alive `afterMs` after each way a run can end. */
export async function measureLeftovers(cfg: LeftoverConfig, log: (s: string) => void): Promise<Section> {
  const section: Section = { title: '1. Leftovers: processes alive 5 s after the ending', body: [], goals: [], findings: [] };
  if (!hasFixtures()) {
    section.body.push('not measured: the misbehaving fixtures (test/fixtures/*.sh) are not in this checkout');
    return section;
  }
  const sups = SUPERVISORS.filter((s) => !s.needs || cfg.has(s.needs));
  const missing = SUPERVISORS.filter((s) => s.needs && !cfg.has(s.needs));
  const scan = new SharedScan(/(wl_bk[0-9a-f]{12})/, 100);
  const results = new Map<string, CellResult[]>();
  const key = (s: Supervisor, w: Workload, e: Ending) => `${s.id}|${w.id}|${e}`;
  const tasks: (() => Promise<void>)[] = [];
  for (let rep = 0; rep < cfg.reps; rep++)
    for (const w of WORKLOADS)
      for (const e of ENDINGS)
        for (const s of sups)
          tasks.push(async () => {
            const r = await runCell(s, w, e, { timeoutS: cfg.timeoutS, afterMs: cfg.afterMs, scan });
            // indexed by repetition, so a row's total adds up cells of the same repetition
            const list = results.get(key(s, w, e)) ?? [];
            list[rep] = r;
            results.set(key(s, w, e), list);
            if (s.corral && r.left) log(`  corral leftover: ${s.id} / ${w.id} / ${e}: ${r.survivors.join('; ')}`);
          });
  const t0 = performance.now();
  let done = 0;
  await runInParallel(tasks.map((t) => async () => {
    await t();
    if (++done % 24 === 0) log(`  leftovers: ${done}/${tasks.length} cells (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }), cfg.width);
  const seconds = (performance.now() - t0) / 1000;
  if (cfg.details) writeFileSync(cfg.details, JSON.stringify(Object.fromEntries([...results].map(([k, rs]) => [k, rs.map(({ left, up, survivors, note }) => ({ left, up, survivors, note }))])), null, 1));

  section.body.push(
    `Each cell: the number of the workload's processes still alive (zombies not counted) ${cfg.afterMs / 1000} s after the ending, ` +
      `median over ${cfg.reps} runs; "m (a–b)" when the runs disagreed. The column heading gives how many processes the workload has once up (the most seen before any ending; this includes short-lived ones such as a loop's \`sleep 1\`). ` +
      `Counted by scanning /proc for a per-cell token that every workload process carries (bench/workloads/launch.sh over test/fixtures/). ` +
      `${tasks.length} cells, ${cfg.width} at a time, took ${seconds.toFixed(0)} s.`,
  );
  if (missing.length) section.body.push(`Not measured (peer not installed): ${missing.map((s) => s.label).join(', ')}.`);
  const notes: string[] = [];
  // the most processes a workload had up before any ending, over every supervisor and run
  const upCount = (w: Workload) => Math.max(...sups.flatMap((s) => ENDINGS.flatMap((e) => (results.get(key(s, w, e)) ?? []).map((r) => r.up))));
  for (const e of ENDINGS) {
    const rows = sups.map((s) => {
      const cells = WORKLOADS.map((w) => {
        const rs = results.get(key(s, w, e)) ?? [];
        const flagged = rs.filter((r) => r.note);
        for (const r of flagged) notes.push(`${s.label} / ${w.label} / ${e}: ${r.note}`);
        return formatSpread(summarize(rs.map((r) => r.left)), '', formatCount) + (flagged.length ? ' †' : '');
      });
      const totals = Array.from({ length: cfg.reps }, (_, i) => WORKLOADS.reduce((n, w) => n + (results.get(key(s, w, e))?.[i]?.left ?? 0), 0));
      return [s.label, ...cells, formatSpread(summarize(totals), '', formatCount)];
    });
    section.body.push(`### Ending: ${ENDING_TEXT[e].replace('{T}', String(cfg.timeoutS))}`);
    section.body.push(renderTable(['supervisor', ...WORKLOADS.map((w) => `${w.label} (${upCount(w)})`), 'total'], rows));
  }
  section.body.push('The workloads (test/fixtures/; each ends in a leader that holds until stopped):\n\n' + WORKLOADS.map((w) => `- ${w.label} (\`${w.fixture}\`): ${w.what}`).join('\n'));
  section.body.push('How each supervisor was run:\n\n' + sups.map((s) => `- ${s.label}: \`${s.shape}\``).join('\n'));
  if (notes.length) section.body.push('† Cells that were not a clean measurement:\n\n' + [...new Set(notes)].map((n) => `- ${n}`).join('\n'));
  reportCorral(section, sups, results, key, cfg);
  return section;
}

function reportCorral(section: Section, sups: Supervisor[], results: Map<string, CellResult[]>, key: (s: Supervisor, w: Workload, e: Ending) => string, cfg: LeftoverConfig): void {
  let bad = 0;
  for (const s of sups.filter((x) => x.corral))
    for (const w of WORKLOADS)
      for (const e of ENDINGS) {
        const rs = results.get(key(s, w, e)) ?? [];
        const hit = rs.find((r) => r.left > 0);
        if (!hit) continue;
        bad++;
        const env = s.id === 'corral-off' ? 'CORRAL_CGROUP=off ' : '';
        const t = e === 'timeout' ? ` --timeout ${cfg.timeoutS}s` : '';
        section.findings.push(
          `corral leftover: ${s.label} / ${w.label} / ending ${e}: ${rs.filter((r) => r.left > 0).length} of ${rs.length} runs left processes (${hit.survivors.join('; ')}). ` +
            `Reproduce: \`${env}CORRAL_HOME=$(mktemp -d) node bin/corral.js run --grace 1s${t} -- bench/workloads/launch.sh test/fixtures/${w.fixture} bkrepro000000\`` +
            (e === 'timeout' ? '' : `, then \`kill -${e.slice(3)}\` the corral pid once the workload is up; count with \`grep -l wl_bkrepro000000 /proc/[0-9]*/cmdline\``),
        );
      }
  section.goals.push(`Leftovers: corral all zeros: ${bad === 0 ? 'met' : `NOT met (${bad} non-zero cell(s), see findings)`}`);
}
