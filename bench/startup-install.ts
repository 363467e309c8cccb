// `node bench/startup-install.ts [--reps 20]`: the start-up time of `corral run -- true` for the three ways
// corral is installed (issue 11), side by side in one run: the single-file binary, `node bin/corral.js`
// in the checkout, and the package installed with `npm install -g` (packed, then installed into a
// temporary prefix with the system's npm). The runs are interleaved (one of each, then again), so load
// on the machine falls on all three alike. Prints a Markdown table with the sizes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
  // CPU time is less disturbed than wall time by other work on a shared machine: the user+sys time of
  // waited-for children (cutime + cstime in /proc/self/stat, clock ticks of 10 ms), summed over the runs
  const cpu = ways.map(() => 0);
  const childTicks = () => {
    const fields = readFileSync('/proc/self/stat', 'latin1').split(') ')[1]!.split(' ');
    return Number(fields[13]) + Number(fields[14]); // cutime, cstime: fields 16 and 17 of stat(5)
  };
  const home = join(work, 'home');
  for (let i = 0; i < reps + 1; i++) {
    ways.forEach(([, cmd], w) => {
      const c0 = childTicks();
      const t0 = performance.now();
      const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'run', '--quiet', '--', 'true'], { env: { ...env, CORRAL_HOME: home, NO_COLOR: '1' }, stdio: 'ignore' });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`${cmd.join(' ')} run -- true exited ${r.status}`);
      if (i === 0) return; // the first round warms the page cache and the compile caches
      times[w]!.push(ms);
      cpu[w]! += (childTicks() - c0) * 10;
    });
  }
  const sizes = [`${(statSync(binary).size / 1048576).toFixed(1)} MiB (one file)`, 'checkout with node_modules', `${du} (du -sh of the prefix); tarball ${(statSync(join(work, tgz)).size / 1024).toFixed(0)} KiB`];
  const out = [
    `corral run -- true, ${reps} runs each, interleaved; wall time median (min–max), CPU (user+sys of corral and what it waited for) mean. ${new Date().toISOString()}`,
    '',
    '| install | wall time of `corral run -- true` | CPU per run | size |',
    '|---|---|---|---|',
    ...ways.map(([name], w) => `| ${name} | ${formatSpread(summarize(times[w]!), ' ms')} | ${Math.round(cpu[w]! / reps)} ms | ${sizes[w]} |`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
