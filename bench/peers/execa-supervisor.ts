// The execa way of supervising a command: a Node script that awaits execa() with a timeout, the
// force-kill follow-up and execa's cleanup (which kills the child when this script is signalled).
// Usage: node execa-supervisor.ts TIMEOUT_MS|0 -- CMD ARGS...
import { execa } from 'execa';

const [timeoutArg, sep, file, ...args] = process.argv.slice(2);
if (sep !== '--' || !file) {
  process.stderr.write('usage: execa-supervisor.ts TIMEOUT_MS -- CMD ARGS...\n');
  process.exit(2);
}
const timeout = Number(timeoutArg) || undefined;
try {
  await execa(file, args, { timeout, forceKillAfterDelay: 1000, cleanup: true, stdio: 'inherit' });
} catch (e) {
  const err = e as { timedOut?: boolean; exitCode?: number };
  process.exitCode = err.timedOut ? 124 : (err.exitCode ?? 1);
}
