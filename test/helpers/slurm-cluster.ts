import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BIN } from './corral.ts';
import { Tracker, waitFor } from './procs.ts';

/**
 * A real one-node Slurm on this machine, one per test file: a private munged (its own key, socket and
 * pid file), slurmctld and slurmd in the foreground, two stand-in GPUs as gres. Every process it starts
 * carries the cluster's directory in its environment (SLURM_CONF), so stop() finds them all by that
 * token, daemons, slurmstepd and jobs alike, and kills them by identity.
 */
export interface SlurmCluster {
  dir: string;
  conf: string;
  host: string;
  /** directory holding nvidia0 and nvidia1: what CORRAL_GPU_DEV_DIR points at */
  devDir: string;
  /** environment for Slurm's client commands (sbatch, squeue, scontrol) and corral --slurm */
  env: NodeJS.ProcessEnv;
  /** runs a Slurm client command; throws with its stderr when it fails */
  cmd: (name: string, args: string[]) => string;
  /** the file the hook wrappers append corral's output to */
  hookLog: string;
  stop: () => Promise<void>;
}

export interface ClusterOptions {
  /** proctrack/linuxproc (default: orphans escape it, which the epilog exists for) or proctrack/cgroup */
  proctrack?: 'linuxproc' | 'cgroup';
  /** name `corral slurm prolog` / `epilog` in slurm.conf, through wrappers that run this checkout */
  hooks?: boolean;
  /** environment the hook wrappers set (Slurm gives hooks almost none) */
  hookEnv?: Record<string, string>;
  startTimeoutMs?: number;
}

const TOOLS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel'];

/** Why a Slurm cannot start here (a missing tool, not root), or null. */
export function slurmMissing(): string | null {
  if (process.getuid?.() !== 0) return 'a private Slurm needs root (slurmd runs jobs as their user)';
  for (const t of TOOLS) if (spawnSync('sh', ['-c', `command -v ${t}`], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).status !== 0) return `${t} is not installed (apt-get install slurm-wlm munge)`;
  return null;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function writeHook(dir: string, which: 'prolog' | 'epilog', env: Record<string, string>): string {
  const path = join(dir, `${which}.sh`);
  // the stand-in GPUs only: a hook in a test never looks at (let alone reaps on) a real GPU of this machine
  const all = { CORRAL_GPU_DEV_DIR: join(dir, 'dev'), CORRAL_GPU_PROBES: 'procfs', ...env };
  const exports = Object.entries(all).map(([k, v]) => `export ${k}='${v}'`).join('\n');
  // Slurm runs hooks with no PATH: the wrapper names this checkout's Node and corral
  writeFileSync(path, `#!/bin/sh\nexport PATH='${dirname(process.execPath)}:/usr/bin:/bin:/usr/sbin:/sbin'\n${exports}\nexec '${process.execPath}' '${BIN}' slurm ${which} >> '${join(dir, 'hooks.log')}' 2>&1\n`);
  chmodSync(path, 0o755);
  return path;
}

function slurmConf(dir: string, host: string, ports: number[], opts: ClusterOptions): string {
  const cpus = 2;
  const lines = [
    // a name of its own: job ids repeat across clusters, and the hooks match the cluster name too
    `ClusterName=c${randomBytes(4).toString('hex')}`, `SlurmctldHost=${host}(127.0.0.1)`, 'SlurmUser=root', 'SlurmdUser=root',
    'AuthType=auth/munge', 'CredType=cred/munge', `AuthInfo=socket=${dir}/munge/munge.sock`,
    `SlurmctldPort=${ports[0]}`, `SlurmdPort=${ports[1]}`,
    `StateSaveLocation=${dir}/state`, `SlurmdSpoolDir=${dir}/spool`,
    `SlurmctldPidFile=${dir}/slurmctld.pid`, `SlurmdPidFile=${dir}/slurmd.pid`,
    `SlurmctldLogFile=${dir}/log/slurmctld.log`, `SlurmdLogFile=${dir}/log/slurmd.log`,
    `ProctrackType=proctrack/${opts.proctrack ?? 'linuxproc'}`, 'TaskPlugin=task/none',
    'SelectType=select/cons_tres', 'SelectTypeParameters=CR_Core', 'GresTypes=gpu',
    // no slurmdbd here, so no sacct: state comes from squeue and scontrol, finished jobs from the jobcomp file
    'AccountingStorageType=accounting_storage/none', 'JobCompType=jobcomp/filetxt', `JobCompLoc=${dir}/jobcomp.txt`,
    'JobAcctGatherType=jobacct_gather/none', 'SchedulerType=sched/builtin', 'ReturnToService=2', 'MpiDefault=none',
    'MinJobAge=600', 'KillWait=2', 'InactiveLimit=0', 'MailProg=/bin/true',
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} Sockets=${cpus} CoresPerSocket=1 ThreadsPerCore=1 RealMemory=1000 Gres=gpu:2 State=UNKNOWN`,
    `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4`,
  ];
  if (opts.hooks) lines.push(`Prolog=${writeHook(dir, 'prolog', opts.hookEnv ?? {})}`, `Epilog=${writeHook(dir, 'epilog', opts.hookEnv ?? {})}`);
  return lines.join('\n') + '\n';
}

function tail(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
}

/** Starts the cluster and waits (bounded) until its node is idle; throws with the daemons' logs if not. */
export async function startSlurmCluster(opts: ClusterOptions = {}): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), `corral-slurm-${randomBytes(3).toString('hex')}-`));
  const tracker = new Tracker();
  tracker.tokens.push(dir);
  const host = hostname().split('.')[0]!;
  for (const d of ['munge', 'state', 'spool', 'log', 'dev']) mkdirSync(join(dir, d), { mode: 0o700 });
  // munged refuses a socket whose directories not everyone may pass through
  for (const d of [dir, join(dir, 'munge')]) chmodSync(d, 0o711);
  // Slurm wants character devices behind gres File=; the null device's numbers give two nodes any job can open
  for (const i of [0, 1]) {
    const r = spawnSync('mknod', [join(dir, 'dev', `nvidia${i}`), 'c', '1', '3'], { encoding: 'utf8' });
    if (r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mknod of a stand-in GPU failed (${r.stderr.trim()}): the test cluster needs CAP_MKNOD (Slurm refuses gres files that are not devices)`);
    }
  }
  writeFileSync(join(dir, 'munge', 'munge.key'), randomBytes(1024), { mode: 0o600 });
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, slurmConf(dir, host, [await freePort(), await freePort()], opts));
  writeFileSync(join(dir, 'gres.conf'), [0, 1].map((i) => `NodeName=${host} Name=gpu File=${dir}/dev/nvidia${i}\n`).join(''));
  if (opts.proctrack === 'cgroup') writeFileSync(join(dir, 'cgroup.conf'), 'CgroupPlugin=autodetect\n');
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
  const daemon = (cmd: string, args: string[]) => {
    const out = openSync(join(dir, 'log', `${cmd}.out`), 'a');
    const child = spawn(cmd, args, { env, stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    child.on('error', () => {});
    tracker.pid(child.pid);
  };
  const stop = async () => {
    spawnSync('scancel', ['--full', '--user=root'], { env, timeout: 5000 });
    await tracker.cleanup();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const m = join(dir, 'munge');
    daemon('munged', ['-F', `--key-file=${m}/munge.key`, `--socket=${m}/munge.sock`, `--pid-file=${m}/munged.pid`, `--seed-file=${m}/seed`]);
    await waitFor(() => existsSync(`${m}/munge.sock`), 'munged to create its socket', 10_000);
    daemon('slurmctld', ['-D', '-i']);
    daemon('slurmd', ['-D']);
    const ms = opts.startTimeoutMs ?? 30_000;
    await waitFor(() => {
      const r = spawnSync('sinfo', ['-h', '-N', '-o', '%t'], { env, encoding: 'utf8', timeout: 5000 });
      return r.status === 0 && r.stdout.trim() === 'idle';
    }, 'the Slurm node to become idle', ms, 200);
  } catch (e) {
    const logs = ['log/munged.out', 'log/slurmctld.log', 'log/slurmd.log'].map((l) => `--- ${l}\n${tail(join(dir, l))}`).join('\n');
    await stop();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
  const cmd = (name: string, args: string[]) => {
    const r = spawnSync(name, args, { env, encoding: 'utf8', timeout: 15_000 });
    if (r.status !== 0) throw new Error(`${name} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };
  return { dir, conf, host, devDir: join(dir, 'dev'), env, cmd, hookLog: join(dir, 'hooks.log'), stop };
}
