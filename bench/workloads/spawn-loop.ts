// spawn-loop.ts TASKS SLOTS [node|posix]: the floor of a Node supervisor's pool: `true` started SLOTS at a
// time, each in its own session (as corral starts jobs), and nothing else. Prints total ms.
//   node:  child_process.spawn (libuv forks the whole process; what corral used before)
//   posix: corral's own start of a pool task (posix_spawn on a worker thread, exits collected on SIGCHLD:
//          src/os/posix-spawn.ts, src/supervise/native-child.ts), with no ledger, cgroup, log or teardown
import { spawn } from 'node:child_process';
import { loadSpawnLib, posixSpawn } from '../../src/os/posix-spawn.ts';
import { NativeChild, watchNativeChild } from '../../src/supervise/native-child.ts';

const tasks = Number(process.argv[2] ?? 500);
const slots = Number(process.argv[3] ?? 8);
const mode = process.argv[4] ?? 'node';
const lib = mode === 'posix' ? loadSpawnLib() : null;
if (mode === 'posix' && !lib) throw new Error('posix_spawn bindings did not load');
const env = Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));

async function startOne(): Promise<void> {
  if (!lib) {
    const child = spawn('true', [], { stdio: 'ignore', detached: true });
    await new Promise((resolve) => child.on('exit', resolve));
    return;
  }
  const r = await posixSpawn(lib, { file: '/bin/true', argv: ['true'], env, stdio: ['ignore', 'ignore', 'ignore'] });
  if (!('pid' in r)) throw new Error(`posix_spawn failed: errno ${r.errno}`);
  const child = new NativeChild('true', r.pid, r.fds);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  watchNativeChild(child);
  await exited;
}

let next = 0;
const t = performance.now();
await Promise.all(
  Array.from({ length: slots }, async () => {
    while (next < tasks) {
      next++;
      await startOne();
    }
  }),
);
process.stdout.write(`${(performance.now() - t).toFixed(3)}\n`);
