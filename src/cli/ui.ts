import type { Command } from 'commander';
import { parseDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import { DEFAULT_PORT } from '../web/access.ts';
import { startDashboard } from '../web/server.ts';
import { say } from './output.ts';

export function register(program: Command): void {
  program
    .command('ui')
    .description('the dashboard in a browser: GPUs and who holds their memory, a timeline, strays, runs, the guard\'s actions (read-only)')
    .option('--listen <host:port>', `where to serve it (default 127.0.0.1:${DEFAULT_PORT}, or the next free port after it)`)
    .option('--token <token>', 'required for any bind beyond loopback; every request must then carry it (prefer $CORRAL_UI_TOKEN: a command line is visible to every user in ps)')
    .option('--interval <dur>', 'how often the machine is scanned and the timeline sampled', '3s')
    .addHelpText('after', `
The page updates itself; its data is also JSON at /api/gpus, /api/strays, /api/runs (live and past),
/api/timeline and /api/guard: the same shapes as gpus, strays, ps and history --json. It only looks:
there are no buttons that act, and every asset is served by corral itself (no internet needed).

Examples:
  corral ui                                   serve on 127.0.0.1:${DEFAULT_PORT}
  ssh -L ${DEFAULT_PORT}:127.0.0.1:${DEFAULT_PORT} gpu-server corral ui   then open http://127.0.0.1:${DEFAULT_PORT}/ on your laptop
  CORRAL_UI_TOKEN=$(openssl rand -hex 16) corral ui --listen 0.0.0.0:${DEFAULT_PORT}
                                              a wider bind needs a token: open /?token=TOKEN, or send
                                              Authorization: Bearer TOKEN
  curl -s 127.0.0.1:${DEFAULT_PORT}/api/strays | jq '.strays[].pid'`)
    .action(async (flags: { listen?: string; token?: string; interval: string }) => {
      const intervalMs = parseDuration(flags.interval, '--interval');
      if (intervalMs < 500 || intervalMs > 3_600_000) throw new UsageError(`--interval ${flags.interval} is outside 500ms to 1h`, 'a few seconds is right: each scan reads every process');
      const token = flags.token ?? (process.env.CORRAL_UI_TOKEN || undefined);
      const dash = await startDashboard({
        listen: flags.listen ?? `127.0.0.1:${DEFAULT_PORT}`, token, intervalMs, fallbackPorts: flags.listen ? 0 : 9,
      });
      // the URL on stdout (scripts and tests read it), what to do with it on stderr
      process.stdout.write(`${dash.url}\n`);
      say(`dashboard at ${dash.url}${token !== undefined ? ' (open it with ?token=TOKEN once; the page then keeps a cookie)' : ''}; Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        const stop = () => void dash.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
