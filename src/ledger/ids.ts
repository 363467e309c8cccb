import { randomBytes } from 'node:crypto';

/** A time-sortable run id: UTC date and time, then 4 random hex digits (20261123-111800-a3f9). */
export function newRunId(now = new Date()): string {
  const iso = now.toISOString(); // 2026-11-23T11:18:00.123Z
  const stamp = iso.slice(0, 10).replace(/-/g, '') + '-' + iso.slice(11, 19).replace(/:/g, '');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export function jobIdFor(runId: string, name: string): string {
  return `${runId}.${name}`;
}
