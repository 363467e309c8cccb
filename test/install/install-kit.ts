import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { FIXTURES, ROOT, tempHome } from '../helpers/corral.ts';
import { findByToken, waitFor, type Tracker } from '../helpers/procs.ts';
import { buildSetuidHelper } from '../helpers/setuid.ts';
import { readStat } from '../../src/proc/stat.ts';

/** Every file the binary is built from, walked in a stable order. */
function inputs(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) inputs(path, out);
    else out.push(path);
  }
  return out;
}

/**
 * dist/corral as `npm run build:binary` makes it, built once per state of the sources: the build (a
 * bundle, a blob, a 120 MB copy) is cached under node_modules/.cache by a hash of everything it reads,
 * so a second test file or a rerun reuses it. Built with the Node that runs the tests (the pinned one).
 */
export function buildBinary(): string {
  const hash = createHash('sha256').update(process.version);
  for (const f of [...inputs(join(ROOT, 'src')), ...inputs(join(ROOT, 'scripts')), join(ROOT, 'package.json'), join(ROOT, 'package-lock.json')]) {
    hash.update(f).update(readFileSync(f));
  }
  const cache = join(ROOT, 'node_modules', '.cache', 'corral-binary');
  const key = hash.digest('hex').slice(0, 16);
  const dir = join(cache, key);
  const bin = join(dir, 'corral');
  if (!existsSync(bin)) {
    // one build is kept (each is 120 MB): the ones of earlier sources go
    if (existsSync(cache)) for (const old of readdirSync(cache)) if (old !== key) rmSync(join(cache, old), { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // the build script writes a partial file and renames it: a reader never sees half a binary
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-binary.ts'), '--out', bin, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 240_000 });
  }
  return bin;
}

/** Every node binary this machine could start: on PATH, the usual places, this checkout's, the test's own. */
export function nodeBinaries(): string[] {
  const found = new Set<string>();
  const candidates = [
    ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'node')),
    '/usr/bin/node', '/usr/local/bin/node', '/bin/node', '/opt/node/bin/node',
    join(ROOT, 'node_modules', 'node', 'bin', 'node'),
    ...readdirSync(join(ROOT, 'node_modules')).filter((n) => n.startsWith('node-linux-')).map((n) => join(ROOT, 'node_modules', n, 'bin', 'node')),
    process.execPath,
  ];
  for (const path of candidates) {
    try {
      if (statSync(path).isFile()) found.add(realpathSync(path));
    } catch {
      /* not there */
    }
  }
  return [...found];
}

/**
 * argv that runs a command in a private mount namespace where every node binary is /dev/null (bind
 * mounts seen only in there): what runs inside cannot start any Node, so only a truly self-contained
 * corral works. The command keeps its pid (unshare and sh exec), so the caller's child pid is the command.
 */
export function withoutNode(command: string[]): string[] {
  const hide = 'for f in "$@"; do [ "$f" = -- ] && { shift; break; }; mount --bind /dev/null "$f" || exit 97; shift; done; exec "$@"';
  return ['unshare', '-m', '--propagation', 'private', '--', 'sh', '-c', hide, 'sh', ...nodeBinaries(), '--', ...command];
}

/** True where this process may make mount namespaces (root, unshare present). */
export function canHideNode(): boolean {
  return spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'true']).status === 0;
}

const NOBODY = 65534;

/**
 * The EPERM case of test/supervise/eperm.test.ts with an installed corral (`program`): run as nobody,
 * its job's child becomes root through the setuid helper, corral is told to stop and may not signal
 * that child. Resolves corral's stderr (which carries the `sudo ... reap` line); null where the helper
 * cannot be built.
 */
export async function epermStderr(program: string[], tracker: Tracker, env: NodeJS.ProcessEnv = {}): Promise<string | null> {
  const helper = buildSetuidHelper();
  if (!helper) return null;
  const home = tempHome(NOBODY);
  const token = tracker.token('eperm');
  const [cmd, ...args] = [...program, 'run', '--grace', '300ms', '--', join(FIXTURES, 'setuid-child.sh'), token, 'wait'];
  const child = spawn(cmd!, args, {
    uid: NOBODY, gid: NOBODY, cwd: '/', stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env, NO_COLOR: '1', CORRAL_HOME: home, HOME: home, CORRAL_TEST_TOKEN: token, CORRAL_TEST_SETUID_HELPER: helper, CORRAL_TEST_TARGET_UID: '0' },
  });
  tracker.pid(child.pid);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  // on exit, not on close: the root child corral could not stop still holds the inherited stderr pipe
  const exited = new Promise<void>((resolve) => child.once('exit', () => setTimeout(resolve, 500)));
  const rootChild = await waitFor(() => findByToken(token).find((p) => p.cmd.includes('other-uid') && !p.cmd.includes('libexec/pyenv')), `the root-owned child (${stderr})`, 20_000);
  tracker.pid(rootChild.pid);
  await waitFor(() => findByToken(token).some((p) => p.cmd.includes('leader')), 'the leader');
  child.kill('SIGTERM');
  await exited;
  // the one process corral could not stop is the test's to kill (it checks the identity first)
  if (readStat(rootChild.pid)?.starttime === rootChild.starttime) process.kill(rootChild.pid, 'SIGKILL');
  await waitFor(() => findByToken(token).every((p) => p.state === 'Z'), 'the root child to die');
  return stderr;
}
