import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { renderTable, type Section } from '../lib/report.ts';
import { NODE, ROOT } from '../lib/paths.ts';

export interface GuardConfig {
  /** scans the guard makes at a short interval; CPU per scan is what a 30 s interval pays once per 30 s */
  scans: number;
  extra: number;
  intervalS: number;
}

const GOAL_CPU_PERCENT = 0.5;
/** "flat": the resident memory at the last scan within this of the one half-way */
const FLAT_MIB = 1;

/**
 * The guard, idle: `extra` processes and nothing to do. bench/guard.ts (the guard's own benchmark) runs
 * the guard at a 100 ms interval for `scans` scans and reads its CPU time and memory; the share of one
 * core at the real interval is the CPU of one scan over that interval (an idle guard does nothing else).
 */
export async function measureGuard(cfg: GuardConfig, log: (s: string) => void): Promise<Section> {
  const section: Section = { title: '6. Guard, idle', body: [], goals: [], findings: [] };
  const goal = `Guard, idle, ${cfg.extra.toLocaleString('en')} processes, ${cfg.intervalS} s interval: under ${GOAL_CPU_PERCENT}% of one core, flat memory`;
  const script = join(ROOT, 'bench', 'guard.ts');
  if (!existsSync(script) || process.getuid?.() !== 0) {
    const why = existsSync(script) ? 'bench/guard.ts needs root (it creates the user the guard is confined to)' : 'bench/guard.ts does not exist';
    section.body.push(`not measured: ${why}`);
    section.goals.push(`${goal}: not measured: ${why}`);
    return section;
  }
  const r = spawnSync(NODE, [script, '--scans', String(cfg.scans), '--extra', String(cfg.extra), '--interval', '100ms', '--samples', '1'], { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 900_000 });
  const out = r.stdout ?? '';
  log(out.trimEnd().replace(/^/gm, '  '));
  const cpu = /CPU ([\d.]+)s = ([\d.]+) ms per scan/.exec(out);
  const rss = /RSS after scan 1: ([\d.]+) MiB, at scan (\d+): ([\d.]+) MiB, at scan (\d+): ([\d.]+) MiB, peak ([\d.]+) MiB/.exec(out);
  const procs = /scans of ~(\d+) processes/.exec(out)?.[1] ?? '?';
  if (r.status !== 0 || !cpu || !rss) {
    const why = `bench/guard.ts failed (${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`;
    section.body.push(`not measured: ${why}`);
    section.goals.push(`${goal}: not measured: ${why}`);
    return section;
  }
  const perScanMs = Number(cpu[2]);
  const percent = (perScanMs / (cfg.intervalS * 1000)) * 100;
  const [first, mid, last, peak] = [rss[1], rss[3], rss[5], rss[6]].map(Number) as [number, number, number, number];
  const flat = last - mid <= FLAT_MIB;
  section.body.push(
    `\`corral guard run\` confined to a user of its own with nothing to reap, ${cfg.extra} extra idle processes (~${procs} in all), ` +
      `${cfg.scans} scans at \`--interval 100ms\` (bench/guard.ts); CPU is utime + stime from /proc. The share of one core at a ` +
      `${cfg.intervalS} s interval is one scan's CPU over ${cfg.intervalS} s: an idle guard does nothing between scans.`,
    renderTable(['measure', 'value'], [
      ['CPU per scan', `${perScanMs.toFixed(1)} ms`],
      [`share of one core at a ${cfg.intervalS} s interval`, `${percent.toFixed(2)}%`],
      ['VmRSS after scan 1', `${first.toFixed(1)} MiB`],
      [`VmRSS at scan ${rss[2]}, at scan ${rss[4]} (peak)`, `${mid.toFixed(1)} MiB, ${last.toFixed(1)} MiB (${peak.toFixed(1)} MiB)`],
    ]),
  );
  section.goals.push(`${goal}: ${percent.toFixed(2)}% of one core (${perScanMs.toFixed(0)} ms per scan), memory ${first.toFixed(1)} → ${mid.toFixed(1)} → ${last.toFixed(1)} MiB (${flat ? 'flat' : 'growing'}): ${percent < GOAL_CPU_PERCENT && flat ? 'met' : 'NOT met'}`);
  return section;
}
