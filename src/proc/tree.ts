import type { Snapshot } from './snapshot.ts';

export function childrenMap(snap: Snapshot): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const p of snap.values()) {
    const list = kids.get(p.ppid);
    if (list) list.push(p.pid);
    else kids.set(p.ppid, [p.pid]);
  }
  return kids;
}

/** All descendants of the given roots (roots not included), breadth first. */
export function descendants(snap: Snapshot, roots: Iterable<number>, kids = childrenMap(snap)): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const queue = [...roots];
  for (let i = 0; i < queue.length; i++) {
    for (const child of kids.get(queue[i]!) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Ancestors of pid, nearest first, up to and including pid 1 when present. */
export function ancestors(snap: Snapshot, pid: number): number[] {
  const out: number[] = [];
  let cur = snap.get(pid)?.ppid;
  while (cur !== undefined && cur > 0 && !out.includes(cur)) {
    out.push(cur);
    cur = snap.get(cur)?.ppid;
  }
  return out;
}
