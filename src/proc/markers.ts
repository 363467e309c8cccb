import { readProcBytes } from './stat.ts';

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

const WANTED = ['CORRAL_RUN_ID=', 'CORRAL_JOB_ID=', 'SUDO_USER=', 'SUDO_UID='].map((v) => ({ name: v, at0: Buffer.from(v, 'latin1'), inside: Buffer.from(`\0${v}`, 'latin1') }));

const CORRAL_ = Buffer.from('CORRAL_');
const SUDO_ = Buffer.from('SUDO_');

/**
 * Picks the few variables corral cares about out of a NUL-separated environ block. Searched as bytes:
 * only the values found become strings, not the whole block (a scan reads every process's environ).
 */
export function parseEnviron(block: string | Buffer): EnvFacts {
  const bytes = typeof block === 'string' ? Buffer.from(block, 'latin1') : block;
  const facts: EnvFacts = { readable: true };
  // every wanted name holds one of these: most environments have neither, and two searches settle it
  if (bytes.indexOf(CORRAL_) < 0 && bytes.indexOf(SUDO_) < 0) return facts;
  for (const { name, at0, inside } of WANTED) {
    const first = bytes.length >= at0.length && bytes.compare(at0, 0, at0.length, 0, at0.length) === 0;
    const at = first ? 0 : bytes.indexOf(inside);
    if (at < 0) continue;
    const start = first ? at0.length : at + inside.length;
    const end = bytes.indexOf(0, start);
    const value = bytes.toString('latin1', start, end < 0 ? bytes.length : end);
    if (name === 'CORRAL_RUN_ID=') facts.runId = value;
    else if (name === 'CORRAL_JOB_ID=') facts.jobId = value;
    else if (name === 'SUDO_USER=') facts.sudoUser = value;
    else facts.sudoUid = Number(value);
  }
  return facts;
}

export function readEnvFacts(pid: number): EnvFacts {
  const block = readProcBytes(`/proc/${pid}/environ`);
  return block === null ? { readable: false } : parseEnviron(block);
}
