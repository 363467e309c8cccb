import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { readStat } from '../../src/proc/stat.ts';
import { takeSnapshot } from '../../src/proc/snapshot.ts';
import { reapAdopted } from '../../src/supervise/reaper.ts';

test("the reaper never takes a zombie that is Node's own child, however it was started", async () => {
  // execFile, not spawnJob: children started anywhere in the process (nvidia-smi from a probe, say).
  const exited = new Promise<number | null>((resolve) => {
    const child = execFile('sh', ['-c', 'exit 3'], () => {});
    child.once('exit', (code) => resolve(code));
    // Block the event loop until the child is a zombie, so libuv cannot reap it before the reaper runs.
    const deadline = Date.now() + 10_000;
    while (readStat(child.pid!)?.state !== 'Z' && Date.now() < deadline);
    assert.equal(readStat(child.pid!)?.state, 'Z');
    assert.equal(reapAdopted(takeSnapshot()), 0, 'the reaper left it alone');
  });
  assert.equal(await exited, 3, 'Node still saw the exit and its status');
});
