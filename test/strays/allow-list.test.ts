import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../src/config/errors.ts';
import type { ProcInfo } from '../../src/proc/snapshot.ts';
import { readProc } from '../../src/proc/snapshot.ts';
import { DEFAULT_ALLOW_NAMES, defaultAllowList, initServiceSession, loadAllowList, matchAllowList, type ExeFacts } from '../../src/strays/allow-list.ts';
import { EMPTY_LEDGER } from '../../src/strays/ledger-view.ts';
import { scanStrays } from '../../src/strays/scan.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';

const dir = mkdtempSync(join(tmpdir(), 'corral-allow-'));
/** the real program for each built-in name, as the kernel would report it */
const genuine = (p: ProcInfo): ExeFacts => ({ path: `/usr/bin/${p.comm.replace(/: server$/, '')}`, uid: 0, mode: 0o100755 });
const ctx = { initSid: 1, bootDaemonTicks: 30_000, userOf: (uid: number) => (uid === 0 ? 'root' : 'alice'), exeOf: genuine };
const proc = (p: Partial<ProcInfo>): ProcInfo => ({
  pid: 700, comm: 'python3', state: 'S', ppid: 1, pgid: 700, sid: 700, ttyNr: 0, cpuTicks: 0, threads: 1, starttime: 900_000, rssPages: 1,
  uid: 1000, cmdline: ['python3', 'serve.py'], kernelThread: false, cgroup: '/user.slice/session-1.scope', ...p,
});

test('without a file: the built-in list (agents, multiplexers, services by cgroup)', () => {
  const list = loadAllowList(undefined, { CORRAL_HOME: dir });
  assert.ok(list.names.includes('ssh-agent') && list.names.includes('tmux: server'));
  assert.equal(list.source, undefined);
  assert.equal(matchAllowList(proc({ comm: 'gpg-agent' }), list, ctx), 'name gpg-agent');
  assert.equal(matchAllowList(proc({ cgroup: '/system.slice/nginx.service' }), list, ctx), 'cgroup nginx.service');
  assert.equal(matchAllowList(proc({}), list, ctx), undefined);
});

test('$CORRAL_HOME/strays-allow.yaml adds names, commands, cgroups and users', () => {
  const home = mkdtempSync(join(tmpdir(), 'corral-allow-home-'));
  writeFileSync(join(home, 'strays-allow.yaml'), 'names: [jupyter-lab]\ncommands: ["serve\\\\.py$"]\ncgroups: ["*.scope"]\nusers: [svc]\n');
  const list = loadAllowList(undefined, { CORRAL_HOME: home });
  assert.equal(list.source, join(home, 'strays-allow.yaml'));
  assert.equal(matchAllowList(proc({ comm: 'jupyter-lab' }), list, ctx), 'name jupyter-lab');
  assert.equal(matchAllowList(proc({ cgroup: undefined }), list, ctx), 'command /serve\\.py$/');
  assert.equal(matchAllowList(proc({ cmdline: ['x'] }), list, ctx), 'cgroup session-1.scope');
  assert.ok(list.names.includes('ssh-agent'), 'the built-in names stay');
});

test('a JSON file given by flag can replace the defaults', () => {
  const file = join(dir, 'allow.json');
  writeFileSync(file, JSON.stringify({ defaults: false, names: ['only-this'], initSession: false, bootGraceSeconds: 0 }));
  const list = loadAllowList(file, {});
  assert.deepEqual(list.names, ['only-this']);
  assert.ok(!list.names.some((n) => DEFAULT_ALLOW_NAMES.includes(n)));
  assert.equal(matchAllowList(proc({ comm: 'ssh-agent' }), list, { ...ctx, bootDaemonTicks: 0 }), undefined);
});

test('a bad file is a usage error that names the file and the key', () => {
  const bad = (text: string, re: RegExp) => {
    const file = join(dir, `bad-${Math.random()}.yaml`);
    writeFileSync(file, text);
    assert.throws(() => loadAllowList(file, {}), (e: unknown) => e instanceof UsageError && re.test(e.message) && e.message.includes(file));
  };
  bad('nmes: [x]\n', /unknown key 'nmes'/);
  bad('names: x\n', /'names' must be a list of strings/);
  bad('commands: ["("]\n', /invalid regular expression/);
  bad('- a\n- b\n', /expected a mapping/);
});

/* Issue 9 item 6: a built-in name counts only for the real, root-installed program (and, for system daemons, a system account). */
test('a built-in name with the wrong executable, a user-writable one, or a user running a system daemon is not allow-listed', () => {
  const list = defaultAllowList();
  const as = (exe: ExeFacts | undefined) => ({ ...ctx, exeOf: () => exe });
  const sshd = proc({ comm: 'sshd', uid: 0 });
  assert.equal(matchAllowList(sshd, list, as({ path: '/usr/sbin/sshd', uid: 0, mode: 0o100755 })), 'name sshd');
  assert.equal(matchAllowList(sshd, list, as({ path: '/usr/bin/sleep', uid: 0, mode: 0o100755 })), undefined, 'exec -a sshd sleep');
  assert.equal(matchAllowList(sshd, list, as({ path: '/tmp/x/sshd', uid: 0, mode: 0o100755 })), undefined, 'a copy outside the system directories');
  assert.equal(matchAllowList(sshd, list, as({ path: '/usr/sbin/sshd', uid: 1000, mode: 0o100755 })), undefined, 'a file a user owns');
  assert.equal(matchAllowList(sshd, list, as({ path: '/usr/sbin/sshd', uid: 0, mode: 0o100777 })), undefined, 'a file anyone may rewrite');
  assert.equal(matchAllowList(sshd, list, as(undefined)), undefined, 'an unreadable executable proves nothing');
  assert.equal(matchAllowList({ ...sshd, uid: 1000 }, list, as({ path: '/usr/sbin/sshd', uid: 0, mode: 0o100755 })), undefined, "a user's own sshd daemon");
  const agent = proc({ comm: 'ssh-agent', uid: 1000 });
  assert.equal(matchAllowList(agent, list, as({ path: '/usr/bin/ssh-agent', uid: 0, mode: 0o102755 })), 'name ssh-agent', "a user's real ssh-agent");
  const broker = proc({ comm: 'dbus-broker-lau', uid: 0 });
  assert.equal(matchAllowList(broker, list, as({ path: '/usr/bin/dbus-broker-launch', uid: 0, mode: 0o100755 })), 'name dbus-broker-lau', 'comm is cut to 15 characters');
});

/* CI ran the suite in a container whose pid 1 never called setsid: every orphan there shared init's session. */
test("init's session allow-lists orphans only when corral itself runs outside it", () => {
  const snap = (selfSid: number) => new Map([
    [1, proc({ pid: 1, ppid: 0, sid: 1, pgid: 1 })],
    [50, proc({ pid: 50, sid: selfSid, pgid: 50 })],
    [60, proc({ pid: 60, ppid: 1, sid: 1, pgid: 60 })],
  ]);
  const list = defaultAllowList();
  const judgeIn = (selfSid: number) => matchAllowList(snap(selfSid).get(60)!, list, { ...ctx, initSid: initServiceSession(snap(selfSid), 50) });
  assert.equal(initServiceSession(snap(7), 50), 1);
  assert.equal(judgeIn(7), "init's own session", 'a host: a service init started, seen from a login session');
  assert.equal(initServiceSession(snap(1), 50), undefined);
  assert.equal(judgeIn(1), undefined, "a container: corral shares init's session, so an orphan there is a stray like any other");
});

const t = new Tracker();
const tmp = mkdtempSync(join(tmpdir(), 'corral-allow-exe-'));
after(async () => {
  spawnSync('tmux', ['-S', join(tmp, 'sock'), 'kill-server']);
  await waitFor(() => t.alive().length === 0, 'the tmux server to end', 5000).catch(() => {});
  assert.deepEqual(await t.cleanup(), []);
  rmSync(tmp, { recursive: true, force: true });
});

/** Starts a command orphaned (its shell exits at once), carrying a token; returns its pid once it runs `comm`. */
async function orphan(script: string, comm: string): Promise<number> {
  const token = t.token('allow');
  spawnSync('bash', ['-c', `(${script}) >/dev/null 2>&1 &`], { env: { ...process.env, CORRAL_TEST_TOKEN: token } });
  const found = await waitFor(() => findByToken(token).find((p) => readProc(p.pid)?.comm === comm), `a process named ${comm}`);
  return found.pid;
}

async function judge(pid: number) {
  const scan = await scanStrays({ ledger: EMPTY_LEDGER, gpu: { devices: [], processes: [], probes: [] }, allowList: defaultAllowList() });
  return { allow: scan.allowListed.get(pid), stray: scan.strays.find((s) => s.pid === pid) };
}

test('a real process renamed sshd (exec -a, or a copied binary named sshd) is a stray, not allow-listed', async () => {
  const renamed = await orphan('exec -a sshd sleep 1000', 'sleep');
  assert.equal(readProc(renamed)?.cmdline[0], 'sshd');
  copyFileSync('/usr/bin/sleep', join(tmp, 'sshd'));
  spawnSync('chmod', ['755', join(tmp, 'sshd')]);
  const copy = await orphan(`exec ${join(tmp, 'sshd')} 1001`, 'sshd');
  const ids = [renamed, copy].map((pid) => ({ pid, starttime: readProc(pid)!.starttime }));
  for (const pid of [renamed, copy]) {
    const { allow, stray } = await judge(pid);
    assert.equal(allow, undefined, `pid ${pid} is not allow-listed`);
    assert.ok(stray?.reasons.some((r) => r.reason === 'orphan'), `pid ${pid} is reported as an orphan`);
  }
  // the test's own sleeps, by the identity it learned: ending them is the test's work, not a leak
  for (const id of ids) if (readProc(id.pid)?.starttime === id.starttime) process.kill(id.pid, 'SIGKILL');
  await waitFor(() => [renamed, copy].every((pid) => (readProc(pid)?.state ?? 'Z') === 'Z'), 'the sleeps to end');
});

test('the real /usr/bin/tmux server on a private socket is still allow-listed', async () => {
  const token = t.token('tmux');
  spawnSync('tmux', ['-S', join(tmp, 'sock'), 'new-session', '-d', 'sleep 1002'], { env: { ...process.env, CORRAL_TEST_TOKEN: token } });
  const server = await waitFor(() => findByToken(token).find((p) => readProc(p.pid)?.comm === 'tmux: server'), 'the tmux server');
  const { allow, stray } = await judge(server.pid);
  assert.equal(allow, 'name tmux: server');
  assert.equal(stray, undefined);
});
