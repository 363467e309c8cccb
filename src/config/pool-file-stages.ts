import { statSync } from 'node:fs';
import { formatDuration } from './duration.ts';
import { resolve } from 'node:path';
import { DEFAULT_BACKOFF_MS, DEFAULT_STAGE_NAME, DEFAULT_STOP_SIGNAL, type PoolItem, type PoolStage, type StageCommand } from './pool-spec.ts';
import { parseCount, parseDurationValue, parseEnvName, parseSignalValue, parseStageName } from './pool-values.ts';
import { findStageProblem, sortStages } from './stage-order.ts';
import { refuseNul } from './items.ts';
import { checkTemplate } from './template.ts';
import type { YamlValue } from './yaml-reader.ts';

/** The `stages:` list of a pool file; the keys are documented at the top of pool-file.ts. */
export const STAGE_KEYS = ['name', 'run', 'needs', 'timeout', 'retries', 'backoff', 'backoff_max', 'stop_signal', 'grace', 'cwd', 'env'];

const RUN_EXPECTED = 'a command: a string (run with sh -c) or a list of arguments';

export interface StageDefaults {
  cwd: string;
  env: Record<string, string>;
  graceMs: number;
  /** where a stage's relative `cwd` starts: the pool file's directory */
  baseDir: string;
}

/** A stage with the YAML values that later checks (graph, templates) point their errors at. */
interface ReadStage {
  stage: PoolStage;
  map: YamlValue;
  name?: YamlValue;
  needs?: YamlValue;
  needList: YamlValue[];
  templates: YamlValue[];
}

function readRun(value: YamlValue): { run: StageCommand; templates: YamlValue[] } {
  const hint = value.isMapping() ? "quote a command that starts with '{', e.g. run: '{} --flag'" : undefined;
  if (value.isList()) {
    const args = value.list(RUN_EXPECTED);
    if (args.length === 0) value.fail(`expected ${RUN_EXPECTED}, found an empty list`);
    return { run: { kind: 'argv', argv: args.map((a) => a.string('an argument (a string)')) }, templates: args };
  }
  const script = value.string(RUN_EXPECTED, hint);
  if (script.trim() === '') value.fail(`expected ${RUN_EXPECTED}, found an empty command`);
  return { run: { kind: 'shell', script }, templates: [value] };
}

function readNeeds(value: YamlValue | undefined): YamlValue[] {
  if (!value || value.isNull()) return [];
  return value.isList() ? value.list('a list of stage names') : [value];
}

function readStage(map: YamlValue, count: number, d: StageDefaults): ReadStage {
  const keys = map.entries('a stage (a mapping with name and run)', STAGE_KEYS);
  const nameValue = keys.get('name');
  if (!nameValue && count > 1) map.missing('name', 'a stage name (required when there are several stages)');
  const name = nameValue ? nameValue.parse('a stage name', (v) => parseStageName(String(v))) : DEFAULT_STAGE_NAME;
  const runValue = keys.get('run') ?? map.missing('run', RUN_EXPECTED);
  const { run, templates } = readRun(runValue);
  const needList = readNeeds(keys.get('needs'));
  const needs = [...new Set(needList.map((n) => n.string('a stage name')))];
  const opt = <T>(key: string, fn: (v: YamlValue) => T, fallback: T): T => {
    const v = keys.get(key);
    return v && !v.isNull() ? fn(v) : fallback;
  };
  const backoffMs = opt('backoff', (v) => v.parse('a duration', (x) => parseDurationValue(x, true)), DEFAULT_BACKOFF_MS);
  const backoffMaxMs = opt('backoff_max', (v) => v.parse('a duration', (x) => parseDurationValue(x, true)), null);
  if (backoffMaxMs !== null && backoffMaxMs < backoffMs) {
    keys.get('backoff_max')!.expect(`a duration of at least backoff (${formatDuration(backoffMs)})`);
  }
  const stage: PoolStage = {
    name,
    needs,
    run,
    cwd: opt('cwd', (v) => readDirectory(v, d.baseDir), d.cwd),
    env: { ...d.env, ...opt('env', readEnv, {}) },
    timeoutMs: opt('timeout', (v) => v.parse('a duration', (x) => parseDurationValue(x, false)), null),
    retries: opt('retries', (v) => v.parse('a count', (x) => parseCount(x, 0)), 0),
    backoffMs,
    backoffMaxMs,
    stopSignal: opt('stop_signal', (v) => v.parse('a signal', parseSignalValue), DEFAULT_STOP_SIGNAL),
    graceMs: opt('grace', (v) => v.parse('a duration', (x) => parseDurationValue(x, true)), d.graceMs),
  };
  return { stage, map, name: nameValue, needs: keys.get('needs'), needList, templates };
}

/** Reads, checks (graph, templates against the items) and orders the stages. */
export function readStages(value: YamlValue, items: PoolItem[], hasGpu: boolean, d: StageDefaults): PoolStage[] {
  const list = value.list('a list of stages, each a mapping with name and run');
  if (list.length === 0) value.fail('expected at least one stage, found an empty list');
  const read = list.map((m) => readStage(m, list.length, d));
  const problem = findStageProblem(read.map((r) => r.stage));
  if (problem) {
    const r = read[problem.stage]!;
    const at = problem.key === 'name' ? r.name : problem.need !== undefined ? r.needList[problem.need] : r.needs;
    (at ?? r.map).fail(problem.message);
  }
  for (const r of read) {
    for (const tpl of r.templates) {
      const text = tpl.string();
      tpl.attempt(() => refuseNul('a command', text));
      const bad = checkTemplate(text, items, hasGpu, r.stage.run.kind === 'shell');
      if (bad) tpl.fail(bad.message, bad.hint, tpl.offsetOf(bad.text));
    }
  }
  return sortStages(read.map((r) => r.stage));
}

/** A directory key (`cwd`): relative to the pool file's directory, and it must exist now. */
export function readDirectory(value: YamlValue, baseDir: string): string {
  const dir = resolve(baseDir, value.string('a directory path'));
  value.attempt(() => refuseNul('a directory path', dir));
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) value.expect(`an existing directory (${dir} is ${st ? 'not a directory' : 'missing'})`);
  return dir;
}

/** An `env` mapping: names checked, values as text. */
export function readEnv(value: YamlValue): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, v] of value.pairs('a mapping of environment variables')) {
    v.attempt(() => parseEnvName(name));
    env[name] = v.isNull() ? '' : v.string('a string value');
    v.attempt(() => refuseNul(`the value of ${name}`, env[name]!));
  }
  return env;
}
