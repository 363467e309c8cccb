// Borrowed from the negative cases behind SkyPilot's reverted subreaper sweep (a sweep that killed
// processes it did not own): another run's intended background work, and a process started outside any
// run, are never touched when a run ends, whichever way it ends. (The pid-reuse half of those cases is
// test/supervise/pid-reuse.test.ts.) Two runs share one ledger, one working directory and the same
// command lines; the processes that must be left alone log every catchable signal they receive.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { isAlive, type Identity } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { FIXTURES, runCorral, startCorral, tempHome, type CorralProcess } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { MODES, needCgroups, recordedRuns } from './containment-kit.ts';

let t = new Tracker();
afterEach(async () => {
  const left = await t.cleanup();
  t = new Tracker();
  assert.deepEqual(left, [], 'the test had to kill leftovers itself');
});

/** The identity a signal-log.py process wrote to PREFIX.ready, once it is there. */
async function loggerAt(prefix: string): Promise<Identity> {
  const pid = await waitFor(() => (existsSync(`${prefix}.ready`) ? Number(readFileSync(`${prefix}.ready`, 'utf8')) : 0), `${prefix} to be up`, 15_000);
  const starttime = readStat(pid)!.starttime;
  t.ids.push({ pid, starttime });
  return { pid, starttime };
}

/** Alive, the same process, not stopped, and it never received a catchable signal. */
function assertUntouched(id: Identity, prefix: string, who: string): void {
  assert.ok(isAlive(id), `${who} (${id.pid}) was killed`);
  assert.notEqual(readStat(id.pid)?.state, 'T', `${who} was stopped`);
  const log = existsSync(prefix) ? readFileSync(prefix, 'utf8').trim() : '';
  assert.equal(log, '', `${who} received signals: ${log}`);
}

function startWork(name: string, token: string, prefix: string, mode: 'wait' | 'exit0', home: string, env: NodeJS.ProcessEnv, cwd: string): CorralProcess {
  const corral = startCorral(['run', '--name', name, '--grace', '500ms', '--', join(FIXTURES, 'background-work.sh'), token, prefix, mode], { home, env, cwd });
  t.pid(corral.child.pid);
  return corral;
}

type Ending = 'exit 0' | 'SIGKILL (the sentinel tears down)' | 'corral stop';
const ENDINGS: Ending[] = ['exit 0', 'SIGKILL (the sentinel tears down)', 'corral stop'];

describe("borrowed: SkyPilot's subreaper sweep negatives (another run's background work, a bystander)", () => {
  for (const mode of MODES) {
    for (const ending of ENDINGS) {
      it(`${mode.name} / run B ends by ${ending}: run A's setsid -f background work and a bystander are untouched`, async (ctx) => {
        if (!needCgroups(ctx, mode.cgroup)) return;
        const dir = mkdtempSync(join(tmpdir(), 'corral-bystanders-'));
        const home = tempHome();
        const [tokenA, tokenB, tokenBy] = [t.token('runA'), t.token('runB'), t.token('bystander')];
        // B starts first: A's work and the bystander are younger than B, so no age rule shields them.
        const b = startWork('b', tokenB, join(dir, 'b'), ending === 'exit 0' ? 'exit0' : 'wait', home, mode.env, dir);
        const bBg = await loggerAt(join(dir, 'b-bg'));
        const a = startWork('a', tokenA, join(dir, 'a'), 'wait', home, mode.env, dir);
        const aBg = await loggerAt(join(dir, 'a-bg'));
        const aLeader = await loggerAt(join(dir, 'a-leader'));
        // The bystander: the test's own background process, in its own session under init, outside any run.
        spawnSync('setsid', ['-f', 'python3', join(FIXTURES, 'signal-log.py'), tokenBy, join(dir, 'bystander')], { cwd: dir, stdio: 'ignore' });
        const bystander = await loggerAt(join(dir, 'bystander'));
        if (ending !== 'exit 0') await loggerAt(join(dir, 'b-leader'));
        if (ending === 'exit 0') writeFileSync(join(dir, 'b-go'), '');
        if (ending === 'SIGKILL (the sentinel tears down)') {
          b.child.kill('SIGKILL');
          await waitFor(() => recordedRuns(home).find((r) => r.name === 'b')?.status === 'lost', "run B's sentinel to record it lost", 15_000);
        } else if (ending === 'corral stop') {
          const res = await runCorral(['stop', 'b', '--grace', '500ms'], { home });
          assert.equal(res.code, 0, res.stdout + res.stderr);
        }
        await b.done;
        await waitFor(() => !isAlive(bBg), "run B's own background work to be gone (B's teardown did run)", 10_000);
        assertUntouched(aBg, join(dir, 'a-bg'), "run A's background work");
        assertUntouched(aLeader, join(dir, 'a-leader'), "run A's job");
        assertUntouched(bystander, join(dir, 'bystander'), 'the bystander');
        // Run A still owns its background work: ending A ends it, and still not the bystander.
        a.child.kill('SIGTERM');
        assert.equal((await a.done).code, 143);
        assert.ok(!isAlive(aBg) && !isAlive(aLeader), "run A's teardown ended its own background work");
        assertUntouched(bystander, join(dir, 'bystander'), 'the bystander');
        process.kill(bystander.pid, 'SIGKILL');
        await waitFor(() => !isAlive(bystander), 'the bystander to die');
      });
    }
  }
});
