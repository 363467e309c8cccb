import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanUpCorralHome, readLedger } from '../lib/corral-home.ts';
import { renderTable, type Section } from '../lib/report.ts';
import { BIN, NODE, makeScratchDir } from '../lib/paths.ts';
import { findMarked, killMarked, newToken, pollUntil } from '../lib/procs.ts';
import { formatSpread, formatRatio, summarize } from '../lib/stats.ts';
import { timeCommand } from '../lib/measure.ts';

export interface StartConfig {
  reps: number;
  memReps: number;
  has: (peer: string) => boolean;
}

function readVmRssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

const MiB = (kib: number) => kib / 1024;

/** A Node that starts one command and exits with its status: what any Node supervisor pays before its own work. */
const BARE_SUPERVISOR = 'require("child_process").spawn(process.argv[1], { stdio: "inherit" }).on("exit", (c) => process.exit(c ?? 1))';

/** Start overhead of a supervised `true`, then the resident memory of each supervisor while a job runs. */
export async function measureStart(cfg: StartConfig, log: (s: string) => void): Promise<Section> {
  const section: Section = { title: '5. Start overhead and memory', body: [], goals: [], findings: [] };
  const home = makeScratchDir('start');
  const env = { ...process.env, CORRAL_HOME: home, NO_COLOR: '1' };
  const starts: [string, string[], NodeJS.ProcessEnv?][] = [
    ['`true` (spawn floor)', ['true']],
    ['`timeout 60 true`', ['timeout', '60', 'true']],
    ...(cfg.has('tini') ? [['`tini -s -- true`', ['tini', '-s', '--', 'true']] as [string, string[]]] : []),
    ['`node -e 0` (Node start-up)', [NODE, '-e', '0']],
    // the floor of any Node supervisor's `run -- true`: the same runtime starting `true` and waiting for it
    ['`node -e` spawning `true` (a bare Node supervisor)', [NODE, '-e', BARE_SUPERVISOR, 'true']],
    ['`corral run -- true`', [NODE, BIN, 'run', '-q', '--', 'true'], env],
  ];
  const ms = starts.map(() => [] as number[]);
  for (let i = 0; i < cfg.reps; i++) starts.forEach(([, argv, e], k) => ms[k]!.push(timeCommand(argv, e).ms));
  const nodeMs = summarize(ms[starts.length - 3]!).median;
  const bareMs = summarize(ms[starts.length - 2]!).median;
  const floor = summarize(ms[0]!).median;
  const corral = ms[starts.length - 1]!;
  section.body.push(
    `Wall time from spawn to exit, median (min–max) of ${cfg.reps} rounds, each round running every command once. corral is a Node program: Node's own start-up is the floor of its figure, so the last row shows corral with \`node -e 0\` taken off.`,
    renderTable(['command', 'time', 'vs `timeout`'], [
      ...starts.map(([label], k) => [label, formatSpread(summarize(ms[k]!), ' ms'), formatRatio(summarize(ms[k]!).median, summarize(ms[1]!).median)]),
      ['`corral run -- true` less Node start-up', formatSpread(summarize(corral.map((m) => m - nodeMs)), ' ms'), ''],
    ]),
  );
  log(`  start: true ${floor.toFixed(1)} ms, node ${nodeMs.toFixed(0)} ms, corral ${summarize(corral).median.toFixed(0)} ms`);
  const startRatio = summarize(corral).median / nodeMs;
  section.goals.push(`Start-up: \`corral run -- true\` within 2.5x of a bare \`node -e 0\`: ${summarize(corral).median.toFixed(0)} ms vs ${nodeMs.toFixed(0)} ms (${startRatio.toFixed(2)}x): ${startRatio <= 2.5 ? 'met' : 'NOT met'}; a bare Node spawning \`true\` takes ${bareMs.toFixed(0)} ms (${(bareMs / nodeMs).toFixed(2)}x; corral ${(summarize(corral).median - bareMs).toFixed(0)} ms above that floor)`);

  // Memory: a job (an idle sleep) under each supervisor; VmRSS once it has settled.
  const mem = new Map<string, number[]>();
  const add = (k: string, v: number) => {
    if (Number.isFinite(v)) mem.set(k, [...(mem.get(k) ?? []), v]);
  };
  for (let i = 0; i < cfg.memReps; i++) {
    for (const sup of ['corral', 'node', 'tini', 'dumb-init', 'parallel', 'timeout']) {
      if (sup !== 'corral' && sup !== 'node' && sup !== 'timeout' && !cfg.has(sup)) continue;
      const mark = newToken();
      const job = ['bash', '-c', 'exec -a "$0" sleep 1000', `${mark}:job`];
      const runHome = makeScratchDir('mem');
      const argv: Record<string, string[]> = {
        corral: [NODE, BIN, 'run', '-q', '--', ...job],
        // the floor of any Node supervisor: the same runtime, idle, with one child (the job) and nothing else
        node: [NODE, '-e', 'const c = require("child_process").spawn(process.argv[1], process.argv.slice(2), { stdio: "ignore" }); c.on("exit", () => process.exit())', ...job],
        tini: ['tini', '-s', '--', ...job],
        'dumb-init': ['dumb-init', ...job],
        parallel: ['parallel', '--will-cite', '-j1', '-q', ...job.slice(0, 3), ':::', job[3]!],
        timeout: ['timeout', '600', ...job],
      };
      const child = spawn(argv[sup]![0]!, argv[sup]!.slice(1), { detached: true, stdio: 'ignore', env: { ...env, CORRAL_HOME: runHome } });
      child.on('error', () => {});
      try {
        await pollUntil(() => findMarked(`${mark}:job`).length > 0, 15_000);
        await sleep(1500); // past start-up: the supervisor is idle, waiting on its job
        add(sup, readVmRssKiB(child.pid!));
        if (sup === 'corral') {
          const s = readLedger(runHome, (db) => db.prepare('SELECT sentinel_pid FROM runs').get() as { sentinel_pid: number } | undefined);
          if (s) add('sentinel', readVmRssKiB(s.sentinel_pid));
        }
      } finally {
        await killMarked(mark);
        if (sup === 'corral') cleanUpCorralHome(runHome);
      }
    }
  }
  const label: Record<string, string> = {
    corral: 'corral supervisor (node)', node: 'bare Node holding one child (`node -e` with a spawn: the floor of a Node supervisor)', sentinel: "corral's sentinel (/bin/sh)", tini: 'tini -s', 'dumb-init': 'dumb-init', parallel: 'GNU parallel controller (perl)', timeout: 'timeout',
  };
  section.body.push(
    `Resident memory (VmRSS) while a job (an idle \`sleep\`) runs, read 1.5 s after the job started; median (min–max) of ${cfg.memReps} runs.`,
    renderTable(['process', 'VmRSS'], [...mem].map(([k, v]) => [label[k] ?? k, formatSpread(summarize(v.map(MiB)), ' MiB')])),
  );
  const sup = summarize((mem.get('corral') ?? []).map(MiB));
  const bare = summarize((mem.get('node') ?? []).map(MiB));
  section.goals.push(`Supervisor memory at most 40 MiB resident: ${sup.n ? `${sup.median.toFixed(1)} MiB: ${sup.median <= 40 ? 'met' : 'NOT met'}; a bare Node holding one child takes ${bare.median.toFixed(1)} MiB (corral ${(sup.median - bare.median).toFixed(1)} MiB above that floor)` : 'not measured'}`);
  const sent = summarize((mem.get('sentinel') ?? []).map(MiB));
  section.goals.push(`Idle sentinel under 2 MiB resident: ${sent.n ? `${sent.median.toFixed(2)} MiB: ${sent.median < 2 ? 'met' : 'NOT met'}` : 'not measured'}`);
  return section;
}
