// `npm run bench`: installs the peers, measures corral side by side with the tools people use instead,
// and writes BENCHMARKS.md. Options (for working on one section): --only leftovers,teardown,scan,pool,start,guard
// --reps N (every section's repetitions) --out FILE --details FILE (every leftover cell's survivors, as JSON).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine, renderReport, type Section } from './lib/report.ts';
import { cleanScratch, ROOT } from './lib/paths.ts';
import { ensurePeers, listPeerVersions } from './lib/peers.ts';

const { values } = parseArgs({
  options: { only: { type: 'string' }, reps: { type: 'string' }, out: { type: 'string' }, details: { type: 'string' } },
});
const only = values.only ? new Set(values.only.split(',')) : null;
const reps = (n: number) => (values.reps ? Number(values.reps) : n);
const log = (s: string) => process.stderr.write(`${s}\n`);

const started = new Date();
const t0 = performance.now();
const machine = describeMachine();
const has = ensurePeers(log);
const sections: Section[] = [];
const want = (name: string) => !only || only.has(name);

// Each section is loaded only when it runs, so a broken one cannot stop the others from being measured.
const PLAN: [string, () => Promise<Section>][] = [
  ['leftovers', async () => (await import('./sections/leftovers/index.ts')).measureLeftovers({ reps: reps(3), width: 21, timeoutS: 5, afterMs: 5000, has, details: values.details }, log)],
  ['teardown', async () => (await import('./sections/teardown.ts')).measureTeardown({ reps: reps(3), treeKillReps: 1, size: 500, graceMs: 2000, has }, log)],
  ['scan', async () => (await import('./sections/scan.ts')).measureScan({ reps: reps(5), extra: 2000, has }, log)],
  ['pool', async () => (await import('./sections/pool.ts')).measurePool({ reps: reps(3), tasks: 500, slots: 8, has }, log)],
  ['start', async () => (await import('./sections/start.ts')).measureStart({ reps: reps(20), memReps: reps(3), has }, log)],
  ['guard', async () => (await import('./sections/guard.ts')).measureGuard({ scans: 120, extra: 2000, intervalS: 30 }, log)],
];

try {
  for (const [name, run] of PLAN) {
    if (!want(name)) continue;
    log(`== ${name}`);
    const s0 = performance.now();
    try {
      sections.push(await run());
    } catch (e) {
      log(`${name} failed: ${(e as Error).stack}`);
      sections.push({ title: name, body: [`not measured: the section failed: ${(e as Error).message}`], goals: [], findings: [] });
    }
    log(`   ${name} took ${((performance.now() - s0) / 1000).toFixed(0)} s`);
  }
} finally {
  cleanScratch();
}
const out = values.out ?? join(ROOT, 'BENCHMARKS.md');
writeFileSync(out, renderReport({ started, seconds: (performance.now() - t0) / 1000, machine, peers: listPeerVersions(), sections, argv: process.argv.slice(2) }));
log(`wrote ${out} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
