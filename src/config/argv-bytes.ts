import { readFileSync } from 'node:fs';
import { UsageError } from './errors.ts';

/**
 * Node decodes the command line as UTF-8 before any JavaScript runs: a byte such as 0xE9 (latin-1 é)
 * becomes U+FFFD, and child_process.spawn only takes strings, which it encodes back as UTF-8. So an
 * argument that is not valid UTF-8 cannot reach a job byte for byte; corral refuses it instead of
 * running the job on a different name (`ls $'f\xe9'` would list `f\xef\xbf\xbd`). The raw bytes are in
 * /proc/self/cmdline; the last `args.length` entries there are the arguments main() was given.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The raw bytes of this process's last `count` arguments, or null where /proc is unreadable. */
export function readRawArgs(count: number, cmdline = '/proc/self/cmdline'): Buffer[] | null {
  let raw: Buffer;
  try {
    raw = readFileSync(cmdline);
  } catch {
    return null;
  }
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0) {
      parts.push(raw.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < raw.length) parts.push(raw.subarray(start));
  return parts.length >= count ? parts.slice(parts.length - count) : null;
}

/** Shows a byte string with each byte that is not printable ASCII as \xHH, as a shell's $'...' would. */
export function showBytes(b: Buffer): string {
  let out = '';
  for (const byte of b) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
}

/** Throws a UsageError naming the first argument that is not valid UTF-8 (1 = the first after the command name). */
export function refuseNonUtf8Args(args: string[], raw = readRawArgs(args.length)): void {
  if (!raw) return;
  for (let i = 0; i < raw.length; i++) {
    try {
      UTF8.decode(raw[i]);
    } catch {
      throw new UsageError(
        `expected arguments in UTF-8, found argument ${i + 1} $'${showBytes(raw[i]!)}' with bytes that are not UTF-8; Node would pass it on changed (as U+FFFD)`,
        `pass such a name through the shell instead, which keeps bytes: corral run -- sh -c 'ls "$(printf "f\\351")"', or read it from a file`,
      );
    }
  }
}
