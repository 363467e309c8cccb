import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/config/errors.ts';
import type { ProcInfo } from '../../src/proc/snapshot.ts';
import { DEFAULT_ALLOW_NAMES, loadAllowList, matchAllowList } from '../../src/strays/allow-list.ts';

const dir = mkdtempSync(join(tmpdir(), 'corral-allow-'));
const ctx = { initSid: 1, bootDaemonTicks: 30_000, userOf: (uid: number) => (uid === 0 ? 'root' : 'alice') };
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
