import { getRawAsset } from 'node:sea';
import { closeSync, fstatSync, lstatSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Stands in for src/os/koffi.ts inside the single-file binary (scripts/build-binary.ts swaps it in). koffi's
 * native module travels as the SEA asset 'koffi.node'; dlopen needs a file, so it is written into a fresh
 * private directory, loaded, and removed at once (the mapping outlives the file). dlopen goes through
 * /proc/self/fd/N of the descriptor that wrote the file, so the file loaded is the one written even if a
 * path were swapped in between. As root only root-owned or sticky places are used, never a TMPDIR a user
 * may control. Hardened servers mount /tmp noexec (dlopen then fails), so other places are tried in turn.
 */
let koffi: unknown;

function places(): string[] {
  if (process.getuid?.() === 0) return ['/tmp', '/run', '/dev/shm', '/var/tmp'];
  const runtime = process.env.XDG_RUNTIME_DIR;
  return [tmpdir(), ...(runtime ? [runtime] : []), '/dev/shm', join(homedir(), '.cache')];
}

function loadFrom(base: string, bytes: Uint8Array): unknown {
  const dir = mkdtempSync(join(base, 'corral-koffi-'));
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0) {
      throw new Error(`refusing ${dir} for koffi's native module: not a private directory (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)})`);
    }
    const fd = openSync(join(dir, 'koffi.node'), 'wx+', 0o500);
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
      const written = fstatSync(fd);
      if (written.size !== bytes.length || written.nlink !== 1) throw new Error(`${dir}/koffi.node changed while it was written`);
      const mod = { exports: {} as unknown };
      process.dlopen(mod, `/proc/self/fd/${fd}`);
      return mod.exports;
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function requireKoffi(): any {
  if (koffi) return koffi;
  const bytes = new Uint8Array(getRawAsset('koffi.node'));
  const failures: string[] = [];
  for (const base of places()) {
    try {
      koffi = loadFrom(base, bytes);
      return koffi;
    } catch (e) {
      failures.push(`${base}: ${(e as Error).message}`);
    }
  }
  throw new Error(`corral: cannot load koffi's native module from any private directory (${failures.join('; ')})`);
}
