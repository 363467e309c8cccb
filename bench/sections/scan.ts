import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { renderTable, type Section } from '../lib/report.ts';
import { BIN, NODE, WORKLOADS, makeScratchDir } from '../lib/paths.ts';
import { findPsutilPython } from '../lib/peers.ts';
import { findMarked, killMarked, newToken, pollUntil } from '../lib/procs.ts';
import { formatSpread, formatRatio, summarize, type Spread } from '../lib/stats.ts';
import { hasCorralCommand, timeCommand } from '../lib/measure.ts';

export interface ScanConfig {
  reps: number;
  /** idle processes started for the scan to wade through */
  extra: number;
  has: (peer: string) => boolean;
}

interface Row {
  label: string;
  what: string;
  ms: number[];
  /** a figure with Node's start-up taken off, where Node's start-up is the floor */
  lessNode?: number[];
}

/** Scan speed: with `extra` idle processes running, corral's scans against ps and psutil. */
export async function measureScan(cfg: ScanConfig, log: (s: string) => void): Promise<Section> {
  const section: Section = { title: '3. Scan speed', body: [], goals: [], findings: [] };
  const mark = newToken();
  const crowd = spawn('bash', [join(WORKLOADS, 'crowd.sh'), mark, String(cfg.extra)], { detached: true, stdio: 'ignore' });
  crowd.on('error', () => {});
  try {
    if (!(await pollUntil(() => findMarked(`${mark}:`).length >= cfg.extra + 1, 120_000, 200))) throw new Error(`the ${cfg.extra} idle processes did not come up`);
    const home = makeScratchDir('scan');
    const env = { ...process.env, CORRAL_HOME: home, NO_COLOR: '1' };
    const strays = hasCorralCommand(NODE, BIN, 'strays');
    const py = cfg.has('psutil') ? findPsutilPython() : null;
    const rows: Row[] = [
      { label: '`ps -eo pid,ppid,stat,lstart,args`', what: 'ps', ms: [] },
      { label: 'corral in-process scan (`takeSnapshot()`)', what: 'snapshot', ms: [] },
      { label: '`corral strays --json`', what: 'strays', ms: [], lessNode: [] },
      { label: 'psutil: pid, ppid, status, cmdline, environ (whole command)', what: 'psutil', ms: [] },
      { label: 'psutil: the same, timed inside Python', what: 'psutil-in', ms: [] },
      { label: '`node -e 0` (Node start-up, the floor of a corral command)', what: 'node', ms: [] },
    ];
    let processes = 0;
    const row = (w: string) => rows.find((r) => r.what === w)!;
    for (let i = 0; i < cfg.reps; i++) {
      row('ps').ms.push(timeCommand(['ps', '-eo', 'pid,ppid,stat,lstart,args']).ms);
      const snap = JSON.parse(timeCommand([NODE, join(WORKLOADS, 'snapshot-scan.ts'), '1']).stdout) as { processes: number; ms: number[] };
      row('snapshot').ms.push(snap.ms[0]!);
      processes = snap.processes;
      const node = timeCommand([NODE, '-e', '0']).ms;
      row('node').ms.push(node);
      if (strays) {
        const t = timeCommand([NODE, BIN, 'strays', '--json'], env);
        if (t.status !== 0 && !t.stdout.startsWith('{')) throw new Error(`corral strays --json failed (${t.status}): ${t.stderr.slice(0, 300)}`);
        row('strays').ms.push(t.ms);
        row('strays').lessNode!.push(t.ms - node);
      }
      if (py) {
        const t = timeCommand([py, join(WORKLOADS, 'psutil-scan.py')]);
        row('psutil').ms.push(t.ms);
        row('psutil-in').ms.push(Number(t.stdout.trim().split(/\s+/)[1]));
      }
      log(`  scan round ${i + 1}/${cfg.reps}: ps ${row('ps').ms.at(-1)!.toFixed(0)} ms, in-process ${row('snapshot').ms.at(-1)!.toFixed(0)} ms${strays ? `, strays ${row('strays').ms.at(-1)!.toFixed(0)} ms` : ''}`);
    }
    const spread = (w: string): Spread => summarize(row(w).ms);
    const psMs = spread('ps').median;
    const table = rows
      .filter((r) => r.ms.length)
      .map((r) => [r.label, formatSpread(summarize(r.ms), ' ms'), formatRatio(summarize(r.ms).median, psMs), r.lessNode?.length ? formatSpread(summarize(r.lessNode), ' ms') : '']);
    section.body.push(
      `${cfg.extra} extra idle processes running (${processes} processes in all when scanned). Median (min–max) of ${cfg.reps} rounds; each round runs every tool once, one after another. ` +
        'Commands are timed from spawn to exit with their output read through a pipe. The in-process scan is timed inside a fresh Node after one warm-up call (bench/workloads/snapshot-scan.ts); it reads stat, owner, cmdline, cgroup and the environment markers of every process.',
      renderTable(['scan', 'time', 'vs ps', 'less Node start-up'], table),
    );
    if (!strays) section.body.push('`corral strays --json`: not measured: corral strays not available yet.');
    if (!py) section.body.push('psutil: not measured: python3-psutil is not installed.');
    const snapMs = spread('snapshot').median;
    section.goals.push(`Scan: in-process scan faster than ps: ${snapMs.toFixed(0)} ms vs ${psMs.toFixed(0)} ms (${formatRatio(snapMs, psMs)}): ${snapMs < psMs ? 'met' : 'NOT met'}`);
    if (strays) {
      const s = spread('strays').median;
      const p = py ? spread('psutil').median : NaN;
      section.goals.push(`Scan: \`corral strays --json\` within 1.5x of ps: ${formatRatio(s, psMs)} (${formatRatio(summarize(row('strays').lessNode!).median, psMs)} without Node start-up): ${s <= 1.5 * psMs ? 'met' : 'NOT met'}; vs psutil: ${py ? `${formatRatio(s, p)} of psutil's time` : 'psutil not measured'}`);
    } else section.goals.push('Scan: `corral strays --json` within 1.5x of ps: not measured: corral strays not available yet');
  } finally {
    await killMarked(`${mark}:`, 60_000);
  }
  return section;
}
