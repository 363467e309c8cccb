import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { preloadHook } from './run-kit.ts';

/*
 * Issue 15: `corral run` loads what a run needs and nothing more. Node lists every builtin module a process
 * has loaded (process.moduleLoadList); a preloaded hook writes that list when corral exits. The run itself
 * is checked whole: its status, and the containment it reports (the subreaper is a prctl through koffi).
 */
test('corral run -- true: no node:crypto (run ids), none of koffi\'s downloader (https, tls, zlib), yet koffi and the whole containment', async (t) => {
  const { dir, env } = preloadHook(t, `process.on('exit', () => process.getBuiltinModule('node:fs').writeFileSync(process.env.MODULE_LIST, process.moduleLoadList.join('\\n')));\n`);
  const list = join(dir, 'modules.txt');
  const res = await runCorral(['run', '--', 'true'], { home: tempHome(), env: { ...env, MODULE_LIST: list } });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /containment .*session\+process group, subreaper, markers, registry/, 'koffi loaded: the subreaper bit was set');
  const loaded = readFileSync(list, 'utf8').split('\n');
  assert.ok(loaded.includes('NativeModule child_process'), 'the list is the real one');
  for (const unwanted of ['crypto', 'internal/crypto/webcrypto', 'https', 'tls', 'zlib']) {
    assert.ok(!loaded.includes(`NativeModule ${unwanted}`), `corral run loaded node:${unwanted}`);
  }
});
