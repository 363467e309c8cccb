// The tree-kill way: spawn the command, and on a timeout or on SIGTERM/SIGINT kill the child's process
// tree with SIGTERM, then once more with SIGKILL a second later (what scripts built on tree-kill do).
// Usage: node tree-kill-supervisor.ts TIMEOUT_MS|0 -- CMD ARGS...
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import treeKill from 'tree-kill';

const [timeoutArg, sep, file, ...args] = process.argv.slice(2);
if (sep !== '--' || !file) {
  process.stderr.write('usage: tree-kill-supervisor.ts TIMEOUT_MS -- CMD ARGS...\n');
  process.exit(2);
}
const child = spawn(file, args, { stdio: 'inherit' });
const pid = child.pid!;
let stopping = false;

function stop(status: number): void {
  if (stopping) return;
  stopping = true;
  treeKill(pid, 'SIGTERM', () => {
    setTimeout(() => treeKill(pid, 'SIGKILL', () => process.exit(status)), 1000);
  });
}

const timeout = Number(timeoutArg);
const timer = timeout > 0 ? setTimeout(() => stop(124), timeout) : undefined;
process.on('SIGTERM', () => stop(143));
process.on('SIGINT', () => stop(130));
child.on('exit', (code, signal) => {
  clearTimeout(timer);
  if (!stopping) process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});
