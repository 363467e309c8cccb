import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { userInfo } from 'node:os';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { NOBODY } from '../strays/stray-kit.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { FAKE_MIB, getJson, HOSTILE, makeWorld, startUi, stopCorral, type WebWorld } from './web-kit.ts';

const t = new Tracker();
let world: WebWorld;
let ui: Awaited<ReturnType<typeof startUi>>;

before(async () => {
  world = await makeWorld(t);
  ui = await startUi(world.home, world.env);
  t.pid(ui.ui.child.pid);
});

after(async () => {
  if (ui) await stopCorral(ui.ui);
  if (world) await stopCorral(world.run);
  const left = await t.cleanup();
  assert.deepEqual(left.map((i) => i.pid), [world.orphanPid], 'only the orphan the test made was left, and the test killed it');
});

/**
 * Fields that differ between two scans a moment apart (ages, CPU, times of the scan), and the run state of
 * a stray's parent: that is init, not the test's, and init is busy at times (in a pid namespace it is the
 * test runner's shell, seen R in one scan and S in the next).
 */
function stable(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (k, v) => {
    if (k === 'parent' && v && typeof v === 'object' && 'state' in v) return { ...v, state: 0 };
    return ['upMs', 'ageMs', 'cpuPercent', 'rssBytes', 'runtimeMs', 'cpuTicks', 'scannedAt', 'scanMs', 'processes', 'startedAt'].includes(k) && typeof v !== 'object' ? 0 : v;
  }));
}

test('/api/gpus is what corral gpus --json prints: the fake GPU, the orphan as a stray holding it, the run\'s job owned by its run', async () => {
  const api = await getJson(ui.url + 'api/gpus');
  const cli = await runCorral(['gpus', '--json'], { home: world.home, env: world.env });
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(stable(api), stable(JSON.parse(cli.stdout)));
  const orphan = api.processes.find((p: any) => p.pid === world.orphanPid);
  assert.deepEqual([orphan.user, orphan.reasons], [userInfo().username, ['orphan', 'gpu-holder']]);
  assert.ok(orphan.command.startsWith(HOSTILE.slice(0, 30)), 'the name as the process gave it: escaping is the page\'s job');
  if (world.fakeNvml) assert.equal(orphan.usedBytes, FAKE_MIB * 2 ** 20);
  assert.equal(api.processes.find((p: any) => p.pid === world.jobPid).runId, world.runId);
});

test('/api/strays is strays --json (plus the reap line per pid); /api/runs is ps --json and history --json', async () => {
  const api = await getJson(ui.url + 'api/strays');
  const cli = JSON.parse((await runCorral(['strays', '--json'], { home: world.home, env: world.env })).stdout);
  assert.deepEqual(Object.keys(api).sort(), [...Object.keys(cli), 'reapCommands'].sort());
  const mine = (v: any) => stable(v.strays.filter((s: any) => s.pid === world.orphanPid));
  assert.deepEqual(mine(api), mine(cli));
  assert.equal(api.strays.filter((s: any) => s.pid === world.orphanPid).length, 1);
  assert.equal(api.reapCommands[String(world.orphanPid)], `corral reap ${world.orphanPid}`);
  const runs = await getJson(ui.url + 'api/runs');
  const ps = JSON.parse((await runCorral(['ps', '--json'], { home: world.home, env: world.env })).stdout);
  const history = JSON.parse((await runCorral(['history', '--json', '-n', '50'], { home: world.home, env: world.env })).stdout);
  assert.deepEqual(stable(runs.live), stable(ps));
  assert.deepEqual(runs.history, history);
  assert.equal(runs.live[0].id, world.runId);
  assert.ok(JSON.stringify(runs.live[0].jobs).includes(`"pid":${world.jobPid}`), 'the job\'s process tree');
});

test('the timeline gains samples with the GPU\'s memory per device and per user; /api/logs has the job\'s log tail', async () => {
  const samples = await waitFor(async () => {
    const tl = await getJson(ui.url + 'api/timeline');
    return tl.samples.length >= 2 ? tl.samples : undefined;
  }, 'two timeline samples');
  const last = samples.at(-1);
  assert.ok(last.seq > samples[0].seq);
  if (world.fakeNvml) {
    assert.ok(Object.keys(last.devices).length >= 1, JSON.stringify(last));
    assert.equal(last.users[userInfo().username], FAKE_MIB, 'the orphan\'s memory counts for its owner');
  }
  const newer = await getJson(ui.url + `api/timeline?after=${last.seq}`);
  assert.ok(newer.samples.every((s: any) => s.seq > last.seq));
  const logs = await getJson(ui.url + `api/logs?run=${world.runId}`);
  assert.deepEqual(logs.jobs.map((j: any) => j.lines), [['hello-from-the-job']]);
  assert.equal((await fetch(ui.url + 'api/logs?run=nosuchrun')).status, 404);
});

test('many requests at once share one scan: every answer comes from the same pass over /proc', async () => {
  const answers = await Promise.all(Array.from({ length: 20 }, () => getJson(ui.url + 'api/strays')));
  // at most two: a scan may end between two of the requests; one scan per request would give twenty
  assert.ok(new Set(answers.map((a) => a.scannedAt)).size <= 2, 'one scan served all 20');
});

test('a user\'s dashboard shows what that user\'s corral shows: root\'s stray with the sudo reap line, none of root\'s runs', { skip: process.getuid?.() !== 0 && 'needs root to run corral as nobody' }, async () => {
  const home = tempHome(NOBODY);
  const env = { ...world.env, HOME: home };
  const mine = await startUi(home, env, undefined, NOBODY);
  t.pid(mine.ui.child.pid);
  try {
    const api = await getJson(mine.url + 'api/strays');
    const cli = await runCorral(['strays', '--json'], { home, env, uid: NOBODY, gid: NOBODY });
    assert.equal(cli.code, 0, cli.stderr);
    const pick = (v: any) => stable(v.strays.filter((s: any) => s.pid === world.orphanPid));
    assert.deepEqual(pick(api), pick(JSON.parse(cli.stdout)));
    assert.equal(api.reapCommands[String(world.orphanPid)], `sudo corral reap --any-user ${world.orphanPid}`, 'another user\'s process: the line says it needs root');
    const runs = await getJson(mine.url + 'api/runs');
    assert.deepEqual(runs, { live: [], history: [] }, 'root\'s ledger is not nobody\'s');
    assert.equal((await fetch(mine.url + `api/logs?run=${world.runId}`)).status, 404, 'nor are root\'s logs');
  } finally {
    await stopCorral(mine.ui);
  }
});
