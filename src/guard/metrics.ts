import { createServer, type Server } from 'node:http';
import { UsageError } from '../config/errors.ts';
import type { Db } from '../ledger/db.ts';
import { readCounters } from './state.ts';
import type { PassResult } from './pass.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** host:port from --metrics; anything but loopback needs --metrics-public, since the figures name users and commands. */
export function parseMetricsAddress(text: string, allowPublic: boolean): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || port > 65535) throw new UsageError(`--metrics '${text}' is not HOST:PORT`, 'e.g. --metrics 127.0.0.1:9464');
  if (!LOOPBACK.test(host) && !allowPublic) {
    throw new UsageError(`--metrics ${text} is not a loopback address: the metrics name users and GPU use to anyone who can connect`, 'use 127.0.0.1:PORT (scrape through a tunnel or a local agent), or add --metrics-public to listen there anyway');
  }
  return { host, port };
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus text exposition of the last pass and the lifetime counters. */
export function renderMetrics(last: PassResult | null, state: Db): string {
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string, samples: [Record<string, string>, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${esc(x)}"`).join(',');
      out.push(`${name}${l ? `{${l}}` : ''} ${v}`);
    }
  };
  const count = <K extends string>(keys: K[][]) => {
    const m = new Map<string, number>();
    for (const k of keys) m.set(JSON.stringify(k), (m.get(JSON.stringify(k)) ?? 0) + 1);
    return [...m].map(([k, v]) => [JSON.parse(k) as string[], v] as const);
  };
  const judged = last?.judged ?? [];
  family('corral_guard_strays', 'gauge', 'Strays the policy covers, by reason, severity and user.',
    count(judged.flatMap((j) => j.stray.reasons.map((r) => [r.reason, j.stray.severity, j.stray.user]))).map(([[reason, severity, user], v]) => [{ reason: reason!, severity: severity!, user: user! }, v]));
  const strayGpu = new Map<number, number>();
  const userGpu = new Map<string, number>();
  for (const p of last?.scan.gpu.processes ?? []) {
    const user = last!.scan.snapshot.get(p.pid);
    if (user && p.usedBytes) userGpu.set(last!.scan.userOf(user.uid), (userGpu.get(last!.scan.userOf(user.uid)) ?? 0) + p.usedBytes);
  }
  for (const j of judged) for (const g of j.stray.gpu) strayGpu.set(g.device, (strayGpu.get(g.device) ?? 0) + (g.usedBytes ?? 0));
  family('corral_guard_stray_gpu_memory_bytes', 'gauge', 'GPU memory held by covered strays, per GPU.', [...strayGpu].map(([gpu, b]) => [{ gpu: String(gpu) }, b]));
  family('corral_guard_gpu_memory_bytes', 'gauge', 'GPU memory used by each user\'s processes.', [...userGpu].map(([user, b]) => [{ user }, b]));
  const counters = readCounters(state);
  family('corral_guard_reaps_total', 'counter', 'Strays reaped by policy.', [[{}, counters.get('reaps') ?? 0]]);
  family('corral_guard_notifications_total', 'counter', 'Stray notifications sent.', [[{}, counters.get('notifications') ?? 0]]);
  family('corral_guard_scans_total', 'counter', 'Scans done.', [[{}, counters.get('scans') ?? 0]]);
  family('corral_guard_scan_duration_seconds', 'gauge', 'How long the last scan took.', [[{}, (last?.scan.scanMs ?? 0) / 1000]]);
  family('corral_guard_active_runs', 'gauge', 'Live corral runs per user (in the guard\'s ledger).', [...(last?.activeRuns ?? [])].map(([user, n]) => [{ user }, n]));
  return out.join('\n') + '\n';
}

/** Serves GET /metrics; resolves once it listens, rejects with a UsageError when the address is taken. */
export function serveMetrics(addr: { host: string; port: number }, render: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
      res.writeHead(404).end('not found: GET /metrics\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render());
  });
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  server.maxConnections = 32;
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new UsageError(`cannot listen on ${addr.host}:${addr.port} for metrics: ${(e as Error).message}`, 'choose another port with --metrics')));
    server.listen(addr.port, addr.host, () => resolve(server));
  });
}
