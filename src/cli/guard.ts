import type { Command } from 'commander';
import { formatDuration, parseDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import type { GpuView } from '../gpu/types.ts';
import { printJson, say, table, visible } from './output.ts';

interface RunFlags {
  policy?: string;
  interval: string;
  metrics?: string;
  metricsPublic?: boolean;
  once?: boolean;
  grace: string;
  ui?: string;
  token?: string;
}

/** The guard scans no faster than this: a scan reads all of /proc. */
const MIN_INTERVAL_MS = 100;

export function register(program: Command): void {
  const guard = program.command('guard').description('a watchdog for a shared GPU server: finds strays as they appear, tells their owners, reaps by policy');
  guard.addHelpText('after', `
Examples:
  corral guard check                               what the policy would do right now (does nothing)
  corral guard run --once                          one scan: notify and reap as the policy says, then exit
  corral guard run --interval 30s --metrics 127.0.0.1:9464
  corral guard status --json                       what the guard sees and has done
  sudo corral guard install                        write corral-guard.service and print how to enable it

Policy: --policy FILE, else /etc/corral/guard.yaml as root, else $CORRAL_HOME/guard.yaml; without one the
built-in default notifies and never reaps. See docs/guard.md.`);

  guard.command('run').description('scan on an interval; notify and reap as the policy says (SIGHUP reloads the policy)')
    .option('--policy <file>', 'the policy file (YAML)')
    .option('--interval <dur>', 'time between scans', '30s')
    .option('--metrics <addr>', 'serve Prometheus metrics on HOST:PORT (loopback only unless --metrics-public)')
    .option('--metrics-public', 'allow a non-loopback --metrics address')
    .option('--grace <dur>', 'when reaping: time between the stop signal and SIGKILL', '5s')
    .option('--once', 'one scan, act, and exit')
    .option('--ui <host:port>', 'also serve the dashboard (corral ui) there; its timeline samples the guard\'s own scans')
    .option('--token <token>', 'the dashboard\'s token, required for a --ui bind beyond loopback (prefer $CORRAL_UI_TOKEN)')
    .action(async (f: RunFlags) => {
      const intervalMs = parseDuration(f.interval, '--interval');
      if (intervalMs < MIN_INTERVAL_MS) throw new UsageError(`--interval ${f.interval} is shorter than ${MIN_INTERVAL_MS}ms`, 'each scan reads all of /proc: give 100ms or more (the default is 30s)');
      const graceMs = parseDuration(f.grace, '--grace');
      const { parseMetricsAddress } = await import('../guard/metrics.ts');
      const metrics = f.metrics !== undefined ? parseMetricsAddress(f.metrics, Boolean(f.metricsPublic)) : undefined;
      if (f.token !== undefined && f.ui === undefined) throw new UsageError('--token is for the dashboard', 'give --ui HOST:PORT with it, or leave --token out');
      const { runGuard } = await import('../guard/loop.ts');
      const ui = f.ui === undefined ? undefined : await startGuardDashboard(f.ui, f.token ?? (process.env.CORRAL_UI_TOKEN || undefined), intervalMs);
      try {
        await runGuard({ policyFlag: f.policy, intervalMs, metrics, once: Boolean(f.once), graceMs, log: say, onPass: ui?.onPass });
      } finally {
        await ui?.close();
      }
    });

  guard.command('check').description('validate the policy and print what it would do right now; signals and writes nothing')
    .option('--policy <file>', 'the policy file (YAML)')
    .option('--json', 'machine-readable')
    .action(async (f: { policy?: string; json?: boolean }) => {
      const { checkPolicy } = await import('../guard/inspect.ts');
      const rows = await checkPolicy(f.policy);
      if (f.json) return printJson(rows);
      say(`policy ${rows.policy}`);
      if (!rows.strays.length) return void process.stdout.write('no strays the policy covers\n');
      process.stdout.write(table(rows.strays.map((r) => [String(r.pid), visible(r.user), r.reasons, r.severity, r.would, visible(r.command).slice(0, 60)]), ['PID', 'USER', 'REASONS', 'SEVERITY', 'WOULD', 'COMMAND']));
    });

  guard.command('status').description('what the guard sees and has done (read from its state; starts nothing)')
    .option('--json', 'machine-readable')
    .option('--limit <n>', 'how many recent actions', '20')
    .action(async (f: { json?: boolean; limit: string }) => {
      const limit = Number(f.limit);
      if (!Number.isInteger(limit) || limit < 0 || limit > 10_000) throw new UsageError(`--limit '${f.limit}' is not a count`, 'give a whole number from 0 to 10000');
      const { guardStatus } = await import('../guard/inspect.ts');
      const st = guardStatus(limit);
      if (f.json) return printJson(st);
      if (!st.lastScanAt) return void process.stdout.write('no guard state here: the guard has not run with this corral home\n');
      process.stdout.write(`last scan ${st.lastScanAt} (${st.lastScanMs}ms, ${st.processes} processes) by pid ${st.pid}; policy ${visible(st.policy ?? '?')}\n`);
      process.stdout.write(`scans ${st.counters.scans ?? 0}, notifications ${st.counters.notifications ?? 0}, reaps ${st.counters.reaps ?? 0}\n\n`);
      process.stdout.write(table(st.strays.map((s) => [String(s.pid), visible(s.user), s.reasons, formatDuration(s.seenForMs), String(s.notifyCount), visible(s.command).slice(0, 60)]), ['PID', 'USER', 'REASONS', 'SEEN FOR', 'NOTIFIED', 'COMMAND']));
      if (st.actions.length) process.stdout.write('\n' + table(st.actions.map((a) => [a.at, String(a.pid), visible(a.user), a.action, visible(a.outcome).slice(0, 80)]), ['AT', 'PID', 'USER', 'ACTION', 'OUTCOME']));
    });

  guard.command('install').description('write corral-guard.service (a systemd unit) and print the commands that enable it')
    .option('--policy <file>', 'the policy file the unit passes to guard run')
    .option('--output <file>', 'write the unit here (default /etc/systemd/system/corral-guard.service, as root)')
    .option('--force', 'replace an existing unit file')
    .action(async (f: { policy?: string; output?: string; force?: boolean }) => {
      const { installUnit } = await import('../guard/unit.ts');
      const { path, commands } = installUnit(f);
      say(`wrote ${path}`);
      process.stdout.write(`To enable the guard:\n${commands.map((c) => `  ${c}\n`).join('')}`);
    });
}

/** The dashboard beside the guard: one timeline, fed by the guard's passes instead of scans of its own. */
async function startGuardDashboard(listen: string, token: string | undefined, intervalMs: number) {
  const [{ startDashboard }, { Timeline, sampleScan }] = await Promise.all([import('../web/server.ts'), import('../web/timeline.ts')]);
  const timeline = new Timeline();
  // the guard calls NVML only in its probe process, which may hang: the page shows the GPUs of the guard's last pass
  let gpu: GpuView = { devices: [], processes: [], probes: [] };
  const dash = await startDashboard({ listen, token, timeline, intervalMs: Math.min(intervalMs, 3000), readGpu: async () => gpu });
  process.stdout.write(`${dash.url}\n`);
  say(`guard: dashboard at ${dash.url}`);
  const onPass = (r: { scan: Parameters<typeof sampleScan>[0] }) => {
    gpu = r.scan.gpu;
    timeline.record(sampleScan(r.scan));
  };
  return { onPass, close: () => dash.close() };
}
