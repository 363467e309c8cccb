import { readProcText } from './stat.ts';

export const RUN_ID_VAR = 'CORRAL_RUN_ID';
export const JOB_ID_VAR = 'CORRAL_JOB_ID';

/** What a process's environment tells about where it came from. */
export interface EnvFacts {
  runId?: string;
  jobId?: string;
  sudoUser?: string;
  sudoUid?: number;
  /** true when /proc/PID/environ could be read (same user or root) */
  readable: boolean;
}

const WANTED = ['CORRAL_RUN_ID=', 'CORRAL_JOB_ID=', 'SUDO_USER=', 'SUDO_UID='];

/** Picks the few variables corral cares about out of a NUL-separated environ block. */
export function parseEnviron(block: string): EnvFacts {
  const facts: EnvFacts = { readable: true };
  for (const prefix of WANTED) {
    const at = block.startsWith(prefix) ? 0 : block.indexOf('\0' + prefix);
    if (at < 0) continue;
    const start = at === 0 && block.startsWith(prefix) ? prefix.length : at + 1 + prefix.length;
    const end = block.indexOf('\0', start);
    const value = block.slice(start, end < 0 ? undefined : end);
    if (prefix === 'CORRAL_RUN_ID=') facts.runId = value;
    else if (prefix === 'CORRAL_JOB_ID=') facts.jobId = value;
    else if (prefix === 'SUDO_USER=') facts.sudoUser = value;
    else facts.sudoUid = Number(value);
  }
  return facts;
}

export function readEnvFacts(pid: number): EnvFacts {
  const block = readProcText(`/proc/${pid}/environ`);
  return block === null ? { readable: false } : parseEnviron(block);
}
