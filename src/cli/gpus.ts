import type { Command } from 'commander';
import { Attributor } from '../strays/attribution.ts';
import { commandOf } from '../strays/facts.ts';
import { formatBytes } from '../strays/gpu-view.ts';
import { prepareScan, runScan } from '../strays/query.ts';
import type { StrayScan } from '../strays/scan.ts';
import { paint, printJson, table, visibleDeep } from './output.ts';
import { fitLine } from '../ui/width.ts';

export interface GpuProcessRow {
  pid: number;
  device: number;
  deviceMinor: number | null;
  usedBytes: number | null;
  kind: string;
  sources: string[];
  user: string;
  command: string;
  runId: string | null;
  jobId: string | null;
  runLive: boolean | null;
  reasons: string[];
}

/** Every GPU process with its owner (user, run, job) and the stray reasons the scan gave it. */
export function gpuProcessRows(scan: StrayScan): GpuProcessRow[] {
  const attributor = new Attributor(scan.snapshot, scan.ledger);
  const strays = new Map(scan.strays.map((s) => [s.pid, s]));
  return scan.gpu.processes.map((g) => {
    const p = scan.snapshot.get(g.pid);
    const stray = strays.get(g.pid);
    const att = stray?.attribution ?? (p ? attributor.attribute(p) : undefined);
    return {
      pid: g.pid, device: g.device, deviceMinor: g.deviceMinor ?? null, usedBytes: g.usedBytes, kind: g.kind, sources: g.sources,
      user: p ? scan.userOf(p.uid) : '?', command: p ? commandOf(p) : '?', runId: att?.runId ?? null, jobId: att?.jobId ?? null,
      runLive: att?.run ? att.run.live : null, reasons: stray?.reasons.map((r) => r.reason) ?? [],
    };
  });
}

/** What `corral gpus --json` prints (the dashboard's /api/gpus serves the same). */
export function gpusJson(scan: StrayScan) {
  return { devices: scan.gpu.devices, processes: gpuProcessRows(scan), probes: scan.gpu.probes };
}

export function register(program: Command): void {
  program
    .command('gpus')
    .description('GPUs and, per process, the memory it holds, its user, the run and job that own it, and its stray reasons')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `
Probes: NVML (libnvidia-ml.so.1), else nvidia-smi, plus /proc/*/fd holders of /dev/nvidia*, /dev/kfd and
/dev/dri/renderD* (these find processes NVML cannot name, e.g. in containers). No GPU is a normal state.

Examples:
  corral gpus
  corral gpus --json | jq '.processes[] | select(.reasons | length > 0)'`)
    .action(async (flags: { json?: boolean }) => {
      const { scan } = await runScan(prepareScan({}));
      const json = gpusJson(scan);
      if (flags.json) return printJson(json);
      const rows = json.processes;
      if (!scan.gpu.devices.length) {
        const why = scan.gpu.probes.map((p) => `${p.name}: ${p.ok ? 'ok' : (p.error ?? 'failed')}`).join('; ');
        process.stdout.write(`no GPU devices found (${why})\n`);
      } else {
        const devs = visibleDeep(scan.gpu.devices).map((d) => [String(d.index), d.name ?? '?', `${formatBytes(d.memUsedBytes)} / ${formatBytes(d.memTotalBytes)}`, d.utilPercent !== undefined ? `${d.utilPercent}%` : '?', d.uuid ?? '']);
        process.stdout.write(table(devs, ['GPU', 'NAME', 'MEMORY USED / TOTAL', 'UTIL', 'UUID']));
      }
      if (!rows.length) return void process.stdout.write('no processes use a GPU\n');
      process.stdout.write('\n');
      const procs = visibleDeep(rows).map((r) => [
        r.device >= 0 ? String(r.device) : r.deviceMinor !== null ? `minor ${r.deviceMinor}` : '?', String(r.pid), r.user,
        r.usedBytes !== null ? formatBytes(r.usedBytes) : '?', r.kind, r.runId ? `${r.jobId ?? r.runId}${r.runLive === false ? ' (ended)' : ''}` : '',
        r.reasons.length ? paint(r.reasons.join(','), 'red') : '', fitLine(r.command, 60),
      ]);
      process.stdout.write(table(procs, ['GPU', 'PID', 'USER', 'MEMORY', 'KIND', 'RUN/JOB', 'STRAY', 'COMMAND']));
    });
}
