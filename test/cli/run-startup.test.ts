import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';

/*
 * Issue 15: `corral run` loads what a run needs and nothing more. Node lists every builtin module a process
 * has loaded (process.moduleLoadList); a preloaded hook writes that list when corral exits. The run itself
 * is checked whole: its status, and the containment it reports (the subreaper is a prctl through koffi).
 */
test('corral run -- true: no node:crypto (run ids), none of koffi\'s downloader (https, tls, zlib), yet koffi and the whole containment', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-startup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const hook = join(dir, 'modules.mjs');
  const list = join(dir, 'modules.txt');
  writeFileSync(hook, `process.on('exit', () => process.getBuiltinModule('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
  const home = tempHome();
  const res = await runCorral(['run', '--', 'true'], { home, env: { NODE_OPTIONS: `--import=${hook}` } });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /containment .*session\+process group, subreaper, markers, registry/, 'koffi loaded: the subreaper bit was set');
  const loaded = readFileSync(list, 'utf8').split('\n');
  assert.ok(loaded.includes('NativeModule child_process'), 'the list is the real one');
  for (const unwanted of ['crypto', 'internal/crypto/webcrypto', 'https', 'tls', 'zlib']) {
    assert.ok(!loaded.includes(`NativeModule ${unwanted}`), `corral run loaded node:${unwanted}`);
  }
});
