import { suggest } from './errors.ts';

/**
 * The stage graph: names unique, every `needs` names another stage, no cycles. Problems are returned,
 * not thrown, so the pool file can point at the exact stage (and `needs` entry) that is wrong.
 */
export interface StageNode {
  name: string;
  needs: string[];
}

export interface StageProblem {
  /** index of the stage in the order given */
  stage: number;
  key: 'name' | 'needs';
  /** index within `needs`, when one entry is at fault */
  need?: number;
  message: string;
}

function findCycle(stages: StageNode[]): string[] | null {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    path.push(name);
    for (const need of byName.get(name)?.needs ?? []) {
      const cycle = visit(need);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const s of stages) {
    const cycle = visit(s.name);
    if (cycle) return cycle;
  }
  return null;
}

export function findStageProblem(stages: StageNode[]): StageProblem | null {
  const names = stages.map((s) => s.name);
  for (let i = 0; i < stages.length; i++) {
    const first = names.indexOf(names[i]!);
    if (first !== i) {
      return { stage: i, key: 'name', message: `expected a stage name used once, found '${names[i]}' again (stages[${first}] has it)` };
    }
  }
  for (let i = 0; i < stages.length; i++) {
    const others = names.filter((n) => n !== names[i]);
    for (let k = 0; k < stages[i]!.needs.length; k++) {
      const need = stages[i]!.needs[k]!;
      if (names.includes(need)) continue;
      const near = suggest(need, others);
      const expected = others.length ? `the name of another stage (${others.join(', ')})` : 'the name of another stage, but there is none';
      return { stage: i, key: 'needs', need: k, message: `expected ${expected}, found '${need}'${near ? ` (did you mean ${near}?)` : ''}` };
    }
  }
  const cycle = findCycle(stages);
  if (cycle) {
    return { stage: names.indexOf(cycle[0]!), key: 'needs', message: `expected stages without a dependency cycle, found ${cycle.join(' -> ')}` };
  }
  return null;
}

/** Topological order, stable: among stages whose needs are met, the one given first goes first. */
export function sortStages<T extends StageNode>(stages: T[]): T[] {
  const done = new Set<string>();
  const left = [...stages];
  const out: T[] = [];
  while (left.length) {
    const i = left.findIndex((s) => s.needs.every((n) => done.has(n)));
    if (i < 0) throw new Error('sortStages: dependency cycle (findStageProblem should have caught it)');
    const [next] = left.splice(i, 1);
    out.push(next!);
    done.add(next!.name);
  }
  return out;
}
