// `node bench/startup-install.ts [--reps 20]`: the start-up time of `corral run -- true` for the three ways
// corral is installed (issue 11), side by side in one run: the single-file binary, `node bin/corral.js`
// in the checkout, and the package installed with `npm install -g` (packed, then installed into a
// temporary prefix with the system's npm). The runs are interleaved (one of each, then again), so load
// on the machine falls on all three alike. Prints a Markdown table with the sizes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBinary } from '../test/install/install-kit.ts';
import { ROOT, BIN } from './lib/paths.ts';
import { formatSpread, summarize } from './lib/stats.ts';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '20' } } });
const reps = Number(values.reps);
const log = (s: string) => process.stderr.write(`${s}\n`);
const work = mkdtempSync(join(tmpdir(), 'corral-bench-install-'));
const npm = process.env.CORRAL_BENCH_NPM ?? '/usr/bin/npm';
try {
  log('building the binary (cached by the state of the sources)');
  const binary = buildBinary();
  log(`packing and installing into a prefix with ${npm}`);
  const env = { ...process.env, PATH: '/usr/bin:/bin', npm_config_audit: 'false', npm_config_fund: 'false' };
  const tgz = execFileSync(npm, ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, env, encoding: 'utf8' }).trim().split('\n').pop()!;
  const prefix = join(work, 'prefix');
  execFileSync(npm, ['install', '-g', '--prefix', prefix, '--prefer-offline', join(work, tgz)], { env, stdio: 'ignore' });
  const installed = join(prefix, 'bin', 'corral');
  const du = execFileSync('du', ['-sh', prefix], { encoding: 'utf8' }).split('\t')[0];

  const ways: [string, string[]][] = [
    ['single-file binary (dist/corral)', [binary]],
    ['node bin/corral.js (checkout)', [process.execPath, BIN]],
    ['npm install -g (system npm, bundled Node)', [installed]],
  ];
  const times = ways.map(() => [] as number[]);
  const home = join(work, 'home');
  for (let i = 0; i < reps + 1; i++) {
    ways.forEach(([, cmd], w) => {
      const t0 = performance.now();
      const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'run', '--quiet', '--', 'true'], { env: { ...env, CORRAL_HOME: home, NO_COLOR: '1' }, stdio: 'ignore' });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`${cmd.join(' ')} run -- true exited ${r.status}`);
      if (i > 0) times[w]!.push(ms); // the first round warms the page cache and the compile caches
    });
  }
  const out = [
    `corral run -- true, ${reps} runs each, interleaved; median (min–max) wall time. ${new Date().toISOString()}`,
    '',
    '| install | start-up of `corral run -- true` | size |',
    '|---|---|---|',
    `| ${ways[0]![0]} | ${formatSpread(summarize(times[0]!), ' ms')} | ${(statSync(binary).size / 1048576).toFixed(1)} MiB (one file) |`,
    `| ${ways[1]![0]} | ${formatSpread(summarize(times[1]!), ' ms')} | checkout with node_modules |`,
    `| ${ways[2]![0]} | ${formatSpread(summarize(times[2]!), ' ms')} | ${du} (du -sh of the prefix); tarball ${(statSync(join(work, tgz)).size / 1024).toFixed(0)} KiB |`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
