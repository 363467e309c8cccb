import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.ts';

/** The tools corral is measured against, and where each comes from. */
const APT: Record<string, { pkg: string; present: () => boolean }> = {
  parallel: { pkg: 'parallel', present: () => onPath('parallel') },
  tini: { pkg: 'tini', present: () => onPath('tini') },
  'dumb-init': { pkg: 'dumb-init', present: () => onPath('dumb-init') },
  psutil: { pkg: 'python3-psutil', present: () => findPsutilPython() !== null },
};
const NPM = ['tree-kill', 'execa'];

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

let psutilAt: string | null | undefined;
/** A Python that can import psutil: python3 on PATH, else Debian's /usr/bin/python3 (where python3-psutil installs). */
export function findPsutilPython(): string | null {
  if (psutilAt !== undefined) return psutilAt;
  psutilAt = null;
  for (const py of ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', 'import psutil'], { stdio: 'ignore' }).status === 0) {
      psutilAt = py;
      break;
    }
  }
  return psutilAt;
}

// execa's package.json is not in its exports map, so look at the file rather than resolving it.
const npmPresent = (name: string) => existsSync(join(ROOT, 'node_modules', name, 'package.json'));

/**
 * Installs what is missing: Debian packages with apt-get (as root, or through passwordless sudo), npm
 * devDependencies with npm install. Skips, saying so, where that is impossible; the sections then say
 * "not measured" for the missing peer instead of failing the whole run.
 */
export function ensurePeers(log: (s: string) => void): (peer: string) => boolean {
  const missing = Object.entries(APT).filter(([, a]) => !a.present());
  if (missing.length) {
    const pkgs = missing.map(([, a]) => a.pkg);
    const root = process.getuid?.() === 0;
    const sudo = !root && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
    if (!onPath('apt-get')) log(`peers: apt-get is not available; not installing ${pkgs.join(', ')} (their rows say "not measured")`);
    else if (!root && !sudo) log(`peers: not root and no passwordless sudo; install them yourself: sudo apt-get install -y ${pkgs.join(' ')}`);
    else {
      const pre = root ? [] : ['sudo', '-n'];
      const apt = (args: string[]) => spawnSync(pre[0] ?? 'apt-get', [...pre.slice(1), ...(pre.length ? ['apt-get'] : []), ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
      log(`peers: apt-get install -y ${pkgs.join(' ')}`);
      if (!apt(['install', '-y', '--no-install-recommends', ...pkgs])) {
        log('peers: install failed; running apt-get update and trying once more');
        apt(['update']);
        apt(['install', '-y', '--no-install-recommends', ...pkgs]);
      }
      psutilAt = undefined;
    }
  }
  const npmMissing = NPM.filter((n) => !npmPresent(n));
  if (npmMissing.length) {
    log(`peers: npm install (devDependencies ${npmMissing.join(', ')} are missing)`);
    try {
      execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    } catch {
      log('peers: npm install failed; the execa and tree-kill rows say "not measured"');
    }
  }
  const have = new Map<string, boolean>();
  for (const [name, a] of Object.entries(APT)) have.set(name, a.present());
  for (const n of NPM) have.set(n, npmPresent(n));
  const absent = [...have].filter(([, ok]) => !ok).map(([n]) => n);
  log(absent.length ? `peers: missing ${absent.join(', ')}` : 'peers: all present (parallel, tini, dumb-init, psutil, tree-kill, execa)');
  return (peer) => have.get(peer) ?? false;
}

/** Versions of the peers, for the machine section. */
export function listPeerVersions(): string[] {
  const v = (cmd: string, args: string[], re: RegExp) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.error ? 'absent' : (`${r.stdout}${r.stderr}`.match(re)?.[0] ?? '?');
  };
  const npmV = (name: string) => (npmPresent(name) ? (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version : 'absent');
  return [
    `GNU parallel ${v('parallel', ['--version'], /\d{8}/)}`,
    `tini ${v('tini', ['--version'], /\d+\.\d+\.\d+/)}`,
    `dumb-init ${v('dumb-init', ['--version'], /\d+\.\d+\.\d+/)}`,
    `psutil ${findPsutilPython() ? v(findPsutilPython()!, ['-c', 'import psutil; print(psutil.__version__)'], /[\d.]+/) : 'absent'}`,
    `coreutils timeout ${v('timeout', ['--version'], /\d+\.\d+/)}`,
    `execa ${npmV('execa')}`,
    `tree-kill ${npmV('tree-kill')}`,
  ];
}
