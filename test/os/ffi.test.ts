import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from '../helpers/corral.ts';

// The subreaper bit changes who inherits orphans, so it is tested in a child process, not in the runner.
const SCRIPT = `
import { setChildSubreaper, isChildSubreaper, reapChild } from './src/os/ffi.ts';
import { readStat } from './src/proc/stat.ts';
import { spawnSync } from 'node:child_process';
setChildSubreaper();
const out = spawnSync('sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!']);
const orphan = Number(String(out.stdout).trim());
const adoptedBy = readStat(orphan).ppid;
process.kill(orphan, 'SIGKILL');
let status = null;
for (let i = 0; i < 200 && status === null; i++) { await new Promise(r => setTimeout(r, 10)); status = reapChild(orphan); }
console.log(JSON.stringify({ subreaper: isChildSubreaper(), adoptedBy, me: process.pid, status, gone: readStat(orphan) === null }));
`;

test('as child subreaper, corral adopts an orphan and reaps it by pid (SIGKILL status 9)', () => {
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: ROOT, encoding: 'utf8' }));
  assert.equal(out.subreaper, true);
  assert.equal(out.adoptedBy, out.me, 'the orphan was re-parented to the subreaper, not init');
  assert.equal(out.status & 0x7f, 9, 'wait status says killed by SIGKILL');
  assert.equal(out.gone, true, 'the zombie was reaped');
});
