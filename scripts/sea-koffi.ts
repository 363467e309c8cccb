import { getRawAsset } from 'node:sea';
import { closeSync, fstatSync, lstatSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Stands in for src/os/koffi.ts inside the single-file binary (scripts/build-binary.ts swaps it in). koffi's
 * native module travels as the SEA asset 'koffi.node'; dlopen needs a file, so it is written into a fresh
 * private directory, loaded, and removed at once (the mapping outlives the file). As root the directory is
 * made under /tmp (root-owned, sticky: no user can rename it away), not under a TMPDIR a user may control,
 * and it is checked before use. dlopen goes through /proc/self/fd/N of the descriptor that wrote the file, so
 * the file loaded is the one written even if a path were swapped in between.
 */
let koffi: unknown;

export function requireKoffi(): any {
  if (koffi) return koffi;
  const base = process.getuid?.() === 0 ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'corral-koffi-'));
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0) {
      throw new Error(`corral: refusing ${dir} for koffi's native module: not a private directory (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)})`);
    }
    const file = join(dir, 'koffi.node');
    const fd = openSync(file, 'wx+', 0o500);
    try {
      const bytes = new Uint8Array(getRawAsset('koffi.node'));
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
      const written = fstatSync(fd);
      if (written.size !== bytes.length || written.nlink !== 1) throw new Error(`corral: ${file} changed while it was written`);
      const mod = { exports: {} as unknown };
      process.dlopen(mod, `/proc/self/fd/${fd}`);
      koffi = mod.exports;
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return koffi;
}
