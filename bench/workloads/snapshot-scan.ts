// snapshot-scan.ts REPS: times corral's in-process scan (takeSnapshot: stat, owner, cmdline, cgroup and
// the environment markers of every process) after one warm-up call, in a fresh Node, so the figure is the
// library's and not the benchmark harness's. Prints one JSON line: {"processes": N, "ms": [..]}.
import { takeSnapshot } from '../../src/proc/snapshot.ts';

const reps = Number(process.argv[2] ?? 5);
takeSnapshot();
const ms: number[] = [];
let processes = 0;
for (let i = 0; i < reps; i++) {
  const t = performance.now();
  processes = takeSnapshot().size;
  ms.push(performance.now() - t);
}
process.stdout.write(`${JSON.stringify({ processes, ms })}\n`);
