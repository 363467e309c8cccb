import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { UsageError } from '../config/errors.ts';
import type { GpuView } from '../gpu/types.ts';
import { openLedgerToRead } from '../ledger/db.ts';
import { ledgerPath } from '../ledger/location.ts';
import { allowRequest, checkExposure, parseListen, setSecurityHeaders, type ListenAddress } from './access.ts';
import { loadAssets } from './assets.ts';
import { DashboardData, type DashboardView } from './dashboard-data.ts';
import { runLogTails } from './log-tail.ts';
import { Timeline } from './timeline.ts';

export interface DashboardOptions {
  /** HOST:PORT; port 0 takes any free one */
  listen: string;
  /** required for a bind beyond loopback; then every request must carry it */
  token?: string;
  /** a timeline someone else records into (the guard); without one the dashboard samples its own */
  timeline?: Timeline;
  env?: NodeJS.ProcessEnv;
  /** how often the machine is scanned at most, and the timeline sampled (default 3 s) */
  intervalMs?: number;
  /** the GPU view to show (the guard gives its last probe's: it never calls NVML in its own process); default: probe */
  readGpu?: () => Promise<GpuView>;
  /** when the port is taken, try this many ports after it (the default port; an explicit one fails) */
  fallbackPorts?: number;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

/** Serves the dashboard: read-only, GET only, every asset its own, one shared scan per interval. */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const addr = parseListen(opts.listen);
  checkExposure(addr, opts.token);
  const env = opts.env ?? process.env;
  // a home corral refuses (another user's, writable by others) fails now, with its fix, not on each request
  openLedgerToRead(ledgerPath(env)).close();
  const intervalMs = Math.max(500, opts.intervalMs ?? 3000);
  const timeline = opts.timeline ?? new Timeline();
  const ownSampler = !opts.timeline;
  const data = new DashboardData({ env, maxAgeMs: intervalMs, onScan: ownSampler ? (v) => timeline.record(v.sample) : undefined, readGpu: opts.readGpu });
  const assets = loadAssets();
  let port = addr.port;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    serve(req, res, { data, timeline, intervalMs, assets, token: opts.token, port, env }).catch((e: Error) => {
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: e.message }));
      else res.destroy();
    });
  };
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, handler);
  server.maxConnections = 256;
  port = await listenOn(server, addr, opts.fallbackPorts ?? 0);
  // a timer, not the wall clock: setInterval runs on the monotonic clock, and unref'd it keeps nothing alive
  const tick = () => void data.tick((s) => timeline.record(s), 3 * intervalMs).catch(() => undefined);
  const sampler = ownSampler ? setInterval(tick, intervalMs) : undefined;
  sampler?.unref();
  if (ownSampler) tick();
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  return {
    url: `http://${host}:${port}/`,
    close: async () => {
      if (sampler) clearInterval(sampler);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function listenOn(server: Server, addr: ListenAddress, fallbacks: number): Promise<number> {
  for (let port = addr.port; ; port++) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, addr.host, () => (server.off('error', reject), resolve()));
      });
      const bound = server.address();
      return typeof bound === 'object' && bound ? bound.port : port;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && port < addr.port + fallbacks) continue;
      const why = code === 'EADDRINUSE' ? `port ${port} is taken (another corral ui?)` : code === 'EACCES' ? `port ${port} needs root` : `${code ?? (e as Error).message}`;
      throw new UsageError(`cannot listen on ${addr.host}:${port}: ${why}`, 'choose another port: corral ui --listen 127.0.0.1:PORT (0 takes any free port)');
    }
  }
}

interface Context {
  data: DashboardData;
  timeline: Timeline;
  intervalMs: number;
  assets: ReturnType<typeof loadAssets>;
  token?: string;
  port: number;
  env: NodeJS.ProcessEnv;
}

const API: Record<string, (v: DashboardView) => unknown> = {
  '/api/gpus': (v) => v.gpus,
  '/api/strays': (v) => v.strays,
  '/api/runs': (v) => v.runs,
  '/api/guard': (v) => v.guard,
};

async function serve(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  setSecurityHeaders(res);
  const url = new URL(req.url ?? '/', 'http://dashboard');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain', 'read-only: GET only\n');
  }
  const access = allowRequest(req, url, ctx.token, ctx.port);
  if (!access.ok) {
    if (ctx.token !== undefined) res.setHeader('WWW-Authenticate', 'Bearer realm="corral"');
    return send(res, ctx.token !== undefined ? 401 : 403, 'text/plain', ctx.token !== undefined ? 'a token is required: Authorization: Bearer TOKEN, or ?token=TOKEN\n' : 'forbidden: reach the dashboard as 127.0.0.1 or localhost\n');
  }
  if (access.setCookie) res.setHeader('Set-Cookie', access.setCookie);
  const asset = ctx.assets.get(url.pathname);
  if (asset) return send(res, 200, asset.type, asset.body, req.method === 'HEAD');
  const pick = API[url.pathname];
  if (pick) return sendJson(res, pick(await ctx.data.current()), req.method === 'HEAD');
  if (url.pathname === '/api/timeline') {
    const after = Number(url.searchParams.get('after') ?? 0);
    if (ctx.timeline.samples().length === 0) await ctx.data.current();
    return sendJson(res, { intervalMs: ctx.intervalMs, capacity: ctx.timeline.capacity, samples: ctx.timeline.samplesAfter(Number.isFinite(after) ? after : 0) }, req.method === 'HEAD');
  }
  if (url.pathname === '/api/logs') {
    const run = url.searchParams.get('run') ?? '';
    const jobs = /^[\w.-]{1,200}$/.test(run) ? runLogTails(run, ctx.env) : null;
    if (!jobs) return send(res, 404, 'application/json', JSON.stringify({ error: `no run '${run.slice(0, 200)}' in the ledger` }));
    return sendJson(res, { run, jobs }, req.method === 'HEAD');
  }
  if (url.pathname === '/favicon.ico') return send(res, 204, 'image/x-icon', ''); // browsers ask; nothing to show
  return send(res, 404, 'text/plain', 'not found\n');
}

function sendJson(res: ServerResponse, value: unknown, head: boolean): void {
  send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value), head);
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, head = false): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}
