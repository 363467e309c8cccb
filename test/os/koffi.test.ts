import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/corral.ts';

// In a fresh process: what loading koffi pulls in is per process, and the test runner has its own modules.
const SCRIPT = `
import { requireKoffi } from './src/os/koffi.ts';
import { createRequire } from 'node:module';
const koffi = requireKoffi();
const getpid = koffi.load('libc.so.6').func('int getpid()');
console.log(JSON.stringify({
  version: koffi.version, pid: getpid(), me: process.pid, same: requireKoffi() === koffi,
  cjs: Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/koffi/')).map((f) => f.slice(f.indexOf('/koffi/'))),
  builtins: process.moduleLoadList.filter((m) => /^NativeModule (https|tls|zlib|crypto|http)$/.test(m)),
}));
`;

test("koffi's native module is loaded directly: a working foreign call, the package's version, none of index.js's downloader (https, tls, zlib, crypto)", () => {
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: ROOT, encoding: 'utf8' }));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'koffi', 'package.json'), 'utf8')) as { version: string };
  assert.equal(out.version, pkg.version, 'the native module matches the installed package');
  assert.equal(out.pid, out.me, 'getpid() through koffi is this process');
  assert.equal(out.same, true, 'loaded once, then the same module');
  assert.deepEqual(out.cjs, ['/koffi/package.json', `/koffi/build/koffi/linux_${process.arch}/koffi.node`], "index.js was not run");
  assert.deepEqual(out.builtins, [], "koffi's prebuild downloader's modules were not loaded");
});
