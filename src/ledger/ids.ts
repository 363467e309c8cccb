import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Crockford's base32 alphabet, lower case: no i, l, o or u, so an id read aloud or retyped stays one id. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 13 base32 digits = 65 random bits: two runs started in the same second on any number of machines
 * or ledgers collide with odds of about 1 in 2^64 (16 bits gave 1 in 65,536 per second). */
const RANDOM_DIGITS = 13;

/**
 * A run id as the ledger, cgroups (corral-ID) and markers spell it: the current format (8 digits, 6
 * digits, 13 base32 digits) or the one before it (4 hex digits), which older ledgers still hold.
 */
export const RUN_ID_SOURCE = `\\d{8}-\\d{6}-(?:[${ALPHABET}]{${RANDOM_DIGITS}}|[0-9a-f]{4})`;
export const RUN_ID_RE = new RegExp(`^${RUN_ID_SOURCE}$`);

/*
 * The random bytes come from /dev/urandom, read a block at a time: node:crypto costs a run's start-up
 * about 10 ms (its ESM namespace loads webcrypto and some 40 internal modules) for 9 bytes. Where
 * /dev/urandom is not the kernel's character device (a chroot without /dev), node:crypto still serves.
 */
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let used = 0;

function readUrandom(into: Uint8Array): boolean {
  let fd: number;
  try {
    fd = openSync('/dev/urandom', 'r');
  } catch {
    return false;
  }
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
    for (let off = 0; off < into.length; ) {
      const n = readSync(fd, into, off, into.length - off, null);
      if (n <= 0) return false;
      off += n;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

function randomBytes(n: number): Uint8Array {
  if (used + n > pool.length) {
    const fresh = new Uint8Array(Math.max(POOL_BYTES, n));
    if (!readUrandom(fresh)) fresh.set(process.getBuiltinModule('node:crypto').randomBytes(fresh.length));
    pool = fresh;
    used = 0;
  }
  used += n;
  return pool.subarray(used - n, used);
}

/** Random base32 digits from the top bits of random bytes. */
function randomDigits(n: number): string {
  const bytes = randomBytes(Math.ceil((n * 5) / 8));
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[Number((bits >> BigInt(bytes.length * 8 - 5 * (i + 1))) & 31n)];
  return out;
}

/** A time-sortable run id: UTC date and time, then 65 random bits (20261123-111800-3k9v2m7q1c0xa). */
export function newRunId(now = new Date()): string {
  const iso = now.toISOString(); // 2026-11-23T11:18:00.123Z
  const stamp = iso.slice(0, 10).replace(/-/g, '') + '-' + iso.slice(11, 19).replace(/:/g, '');
  return `${stamp}-${randomDigits(RANDOM_DIGITS)}`;
}

export function jobIdFor(runId: string, name: string): string {
  return `${runId}.${name}`;
}
