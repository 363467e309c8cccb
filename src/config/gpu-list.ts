import { UsageError } from './errors.ts';
import type { PoolSlot } from './pool-spec.ts';

const EXPECTED = 'GPU indexes such as 0,1 or 0-3 or 0-1,4';
/** far above any machine; catches typos such as 0-30000 before they become 30000 slots */
const MAX_GPU_INDEX = 1023;
/**
 * The most tasks a pool runs at once. Each is a process tree with pipes, a log file and a supervision
 * entry; 4096 is far above any GPU machine's useful concurrency and well below pid and file limits
 * (pid_max is 32768 on many machines), and it keeps a typo (--jobs 9007199254740991) from building
 * slot tables until V8 runs out of memory.
 */
export const MAX_SLOTS = 4096;

/**
 * Parses `0,1`, `0-3`, `0-1,4` (spaces allowed) into distinct GPU indexes in the order written.
 * A single number is one index, not a count: `2` is GPU 2. Throws UsageError("expected ..., found ...").
 */
export function parseGpuList(text: string): number[] {
  const found = `'${text}'`;
  const parts = String(text).split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) {
    throw new UsageError(`expected ${EXPECTED}, found ${found}`);
  }
  const out: number[] = [];
  for (const part of parts) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`expected ${EXPECTED}, found ${found}`, `'${part}' is not an index or a range`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new UsageError(`expected ${EXPECTED}, found ${found}`, `the range ${part} runs backwards; write ${hi}-${lo}`);
    if (hi > MAX_GPU_INDEX) throw new UsageError(`expected GPU indexes up to ${MAX_GPU_INDEX}, found ${found}`);
    for (let g = lo; g <= hi; g++) {
      if (out.includes(g)) throw new UsageError(`expected each GPU once, found GPU ${g} twice in ${found}`);
      out.push(g);
    }
  }
  return out;
}

/** Joins the entries of a YAML list such as [0, 1, "4-5"] and parses them as one list. */
export function parseGpuEntries(entries: (string | number)[]): number[] {
  if (entries.length === 0) throw new UsageError(`expected ${EXPECTED}, found an empty list`);
  return parseGpuList(entries.map(String).join(','));
}

/**
 * Slots interleaved over GPUs (g0, g1, g0, g1 ...), so that the first tasks spread over every GPU
 * before any GPU gets a second one. With no GPUs, `jobs` CPU-only slots.
 */
export function buildSlots(gpus: number[], perGpu: number, jobs: number): PoolSlot[] {
  const count = gpus.length ? gpus.length * perGpu : jobs;
  if (count > MAX_SLOTS) {
    const found = gpus.length ? `${gpus.length} GPUs x ${perGpu} per GPU = ${count}` : String(jobs);
    throw new UsageError(`expected at most ${MAX_SLOTS} tasks at once, found ${found}`, 'every slot is a running task with its own processes, pipes and log; no machine runs more usefully');
  }
  const slots: PoolSlot[] = [];
  if (gpus.length === 0) {
    for (let i = 0; i < jobs; i++) slots.push({ index: i, gpu: null });
    return slots;
  }
  for (let round = 0; round < perGpu; round++) {
    for (const gpu of gpus) slots.push({ index: slots.length, gpu });
  }
  return slots;
}
