import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { skipOrFail } from '../helpers/skip.ts';

test('guard install --output writes corral-guard.service that systemd-analyze verify accepts, and prints the enable commands', async (t) => {
  const home = tempHome();
  const dir = join(home, 'units');
  mkdirSync(dir);
  const unit = join(dir, 'corral-guard.service');
  const res = await runCorral(['guard', 'install', '--output', unit, '--policy', '/etc/corral/guard.yaml'], { home });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /systemctl daemon-reload\n {2}systemctl enable --now corral-guard\.service/);
  const text = readFileSync(unit, 'utf8');
  for (const line of ['KillMode=control-group', 'Restart=on-failure', 'RestartPreventExitStatus=2', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ExecReload=/bin/kill -HUP $MAINPID']) assert.ok(text.includes(`\n${line}\n`), line);
  assert.match(text, /\nExecStart=\/\S+corral(\.js)? guard run --policy \/etc\/corral\/guard\.yaml\n/);
  const again = await runCorral(['guard', 'install', '--output', unit], { home });
  assert.equal(again.code, 2, 'an existing unit is not replaced without --force');
  const probe = spawnSync('systemd-analyze', ['--version']);
  if (probe.error) return skipOrFail(t, 'systemd-analyze is not installed (apt-get install systemd)');
  const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), '', 'no warnings');
});
