import { libcLibrary } from './ffi.ts';

interface TtyLibc {
  dup2: (from: number, to: number) => number;
  errno: () => number;
}

let libc: TtyLibc | null | undefined;

/** The few libc calls a supervisor needs to rearrange its own descriptors; null where koffi cannot load. */
function load(): TtyLibc | null {
  if (libc !== undefined) return libc;
  try {
    const { lib, errno } = libcLibrary()!;
    libc = { dup2: lib.func('int dup2(int, int)'), errno };
  } catch {
    libc = null;
  }
  return libc;
}

/**
 * Makes descriptor `to` a copy of `from` (dup2). Node has no call for it: a detached supervisor uses it
 * to move its stderr from the pipe to the starting corral onto its own log file. False when it failed.
 */
export function duplicateFd(from: number, to: number): boolean {
  const l = load();
  if (!l) return false;
  return l.dup2(from, to) === to;
}
