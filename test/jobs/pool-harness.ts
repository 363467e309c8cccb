import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedger } from '../../src/ledger/db.ts';
import type { AttemptRow, JobRow } from '../../src/ledger/jobs.ts';
import type { RunRow } from '../../src/ledger/runs.ts';
import { FIXTURES } from '../helpers/corral.ts';

/** Shared by the pool tests: the misbehaving task fixture, pool files, and reading the ledger back. */
export const TASK = join(FIXTURES, 'pool', 'task.py');

let python: string | undefined;
/** The interpreter itself, not a pyenv shim: a shim's bash start-up would eat into 1s timeouts. */
export function realPython(): string {
  python ??= execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  return python;
}

/** `slow-1` .. `slow-N`: items whose tasks take 0.4s and succeed, and the `stage item` key of each task. */
export function slowPool(n: number): { items: string[]; all: string[] } {
  const items = Array.from({ length: n }, (_, i) => `slow-${i + 1}`);
  return { items, all: items.flatMap((item) => ['sample', 'evaluate'].map((stage) => `${stage} ${item}`)) };
}

export function stateDir(): string {
  return mkdtempSync(join(tmpdir(), 'corral-pool-state-'));
}

/** A two-stage pool file (sample, then evaluate of the same item) running task.py. */
export function writeTwoStagePool(state: string, items: string[], extra: { sample?: string; evaluate?: string; top?: string; grace?: string } = {}): string {
  const run = (stage: string) => `[${JSON.stringify(realPython())}, ${JSON.stringify(TASK)}, ${stage}, '{}', ${JSON.stringify(state)}]`;
  const yaml = `name: pool-test
gpus: 0-1
per_gpu: 2
grace: ${extra.grace ?? '400ms'}
preflight: ignore
${extra.top ?? ''}
items: [${items.join(', ')}]
stages:
  - name: sample
    run: ${run('sample')}
${extra.sample ?? ''}
  - name: evaluate
    needs: [sample]
    run: ${run('evaluate')}
${extra.evaluate ?? ''}
`;
  const file = join(state, 'pool.yaml');
  writeFileSync(file, yaml);
  return file;
}

export interface Ledger {
  runs: RunRow[];
  jobs: JobRow[];
  attempts: AttemptRow[];
}

export function readLedger(home: string): Ledger {
  const path = join(home, 'ledger.sqlite');
  if (!existsSync(path)) return { runs: [], jobs: [], attempts: [] };
  const db = openLedger(path);
  try {
    return {
      runs: db.prepare('SELECT * FROM runs ORDER BY started_at, id').all() as unknown as RunRow[],
      jobs: db.prepare('SELECT * FROM jobs ORDER BY rowid').all() as unknown as JobRow[],
      attempts: db.prepare('SELECT * FROM attempts ORDER BY id').all() as unknown as AttemptRow[],
    };
  } finally {
    db.close();
  }
}

/** One line per task start, as task.py logs it. */
export interface Start {
  stage: string;
  item: string;
  attempt: number;
  gpu: string;
  cuda: string;
  pid: number;
}

export function readStarts(state: string): Start[] {
  const file = join(state, 'starts.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
    const [stage, item, attempt, gpu, cuda, pid] = l.split(' ');
    return { stage: stage!, item: item!, attempt: Number(attempt), gpu: gpu!, cuda: cuda!, pid: Number(pid) };
  });
}

/** The most tasks that ran at once on each GPU, from the jobs' start and commit times in the ledger. */
export function peakPerGpu(jobs: JobRow[]): Map<string, number> {
  const peak = new Map<string, number>();
  const ran = jobs.filter((j) => j.role === 'task' && j.started_at !== null && j.ended_at !== null && j.gpus !== null);
  for (const j of ran) {
    const at = j.started_at!;
    const n = ran.filter((o) => o.gpus === j.gpus && o.started_at! <= at && o.ended_at! > at).length;
    peak.set(j.gpus!, Math.max(peak.get(j.gpus!) ?? 0, n));
  }
  return peak;
}
