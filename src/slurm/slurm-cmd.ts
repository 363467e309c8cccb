import { execFile } from 'node:child_process';

/** A Slurm client command that failed: its name and what it printed. */
export class SlurmCommandError extends Error {
  readonly stderr: string;
  constructor(cmd: string, args: string[], stderr: string, code: number | string | null) {
    super(`${cmd} ${args.join(' ').slice(0, 200)} failed (${code}): ${stderr.trim().slice(0, 500) || 'no message'}`);
    this.name = 'SlurmCommandError';
    this.stderr = stderr;
  }
}

const TIMEOUT_MS = 30_000;
/** squeue over a busy cluster is the largest output read; anything past this is not one pool's jobs */
const MAX_OUTPUT = 16 * 1024 * 1024;

/** Runs sbatch, squeue, scontrol or scancel; bounded in time and output; rejects with its stderr. */
export function runSlurm(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new SlurmCommandError(cmd, args, stderr || err.message, (err as { code?: number | string }).code ?? null));
      else resolve(stdout);
    });
  });
}
