import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../config/errors.ts';
import { YamlSource } from '../config/yaml-reader.ts';
import { checkAncestors, effectiveUid, userNameOf } from '../ledger/home-safety.ts';
import { corralHome } from '../ledger/location.ts';
import { defaultPolicy, readPolicy, type Policy } from './policy.ts';

export const SYSTEM_POLICY = '/etc/corral/guard.yaml';
/** A policy is a few dozen lines; anything past this is not one. */
const MAX_POLICY_BYTES = 256 * 1024;

/** Where the policy is read from: --policy, else /etc/corral/guard.yaml as root, else $CORRAL_HOME/guard.yaml. */
export function policyPath(flag?: string, env = process.env): { path: string; explicit: boolean } {
  if (flag !== undefined) return { path: resolve(flag), explicit: true };
  return { path: effectiveUid() === 0 ? SYSTEM_POLICY : join(corralHome(env), 'guard.yaml'), explicit: false };
}

/**
 * The policy decides what root kills: as root a policy file that another user can write (the file, or a
 * directory above it) is refused, as sshd refuses such a key file. Never read through a symbolic link.
 */
function readPolicyText(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new UsageError(`refusing policy ${path}: it is a symbolic link`, `point --policy at the file itself`);
    throw new UsageError(`cannot read policy ${path}: ${(e as Error).message}`, 'check the path and its permissions');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`refusing policy ${path}: it is not a regular file`, 'give a YAML file');
    const me = effectiveUid();
    if (me === 0) {
      if (st.uid !== 0) throw new UsageError(`refusing policy ${path}: it is owned by ${userNameOf(st.uid)} (uid ${st.uid}), and the guard runs as root`, `fix: chown root ${path}`);
      if (st.mode & 0o022) throw new UsageError(`refusing policy ${path}: group or other users can write it (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`, `fix: chmod go-w ${path}`);
      checkAncestors(path);
    }
    if (st.size > MAX_POLICY_BYTES) throw new UsageError(`policy ${path} is ${st.size} bytes, more than a policy needs (at most ${MAX_POLICY_BYTES})`, 'give the guard policy file itself');
    const buf = Buffer.alloc(Math.min(st.size, MAX_POLICY_BYTES) + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The policy in force: the file when there is one, else the built-in default (notify only). */
export function loadPolicy(flag?: string, env = process.env): Policy {
  const { path, explicit } = policyPath(flag, env);
  const text = readPolicyText(path);
  if (text === null) {
    if (explicit) throw new UsageError(`policy ${path} does not exist`, 'give an existing file, or leave out --policy for the default');
    return defaultPolicy();
  }
  return readPolicy(new YamlSource(path, text));
}
