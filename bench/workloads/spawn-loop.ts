// spawn-loop.ts TASKS SLOTS: the floor of any Node supervisor's pool: child_process.spawn of `true`,
// SLOTS in flight, each in its own session (as corral starts jobs), and nothing else. Prints total ms.
import { spawn } from 'node:child_process';

const tasks = Number(process.argv[2] ?? 500);
const slots = Number(process.argv[3] ?? 8);
let next = 0;
const t = performance.now();
await Promise.all(
  Array.from({ length: slots }, async () => {
    while (next < tasks) {
      next++;
      const child = spawn('true', [], { stdio: 'ignore', detached: true });
      await new Promise((resolve) => child.on('exit', resolve));
    }
  }),
);
process.stdout.write(`${(performance.now() - t).toFixed(3)}\n`);
