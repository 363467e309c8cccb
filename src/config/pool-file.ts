/**
 * The pool file (`corral pool FILE.yaml`). Users' documentation: docs/pool-file.md; the JSON Schema that
 * editors validate with: schema/pool.schema.json (test/config/pool-schema.test.ts keeps all three in step
 * with POOL_KEYS and STAGE_KEYS). Every key:
 *
 *   name: sample-then-evaluate   optional label shown in ps/history
 *   gpus: 0-3                    GPU indexes: `0,1`, `0-3`, `0-1,4`, or a list [0, 1]; a single number is
 *                                one GPU index, not a count, and a bare number above 0 is refused (`gpus: 2`
 *                                could mean either): `[2]` or `0-1`. Omit it and give `jobs: N` for CPU only.
 *   per_gpu: 2                   tasks at once on each GPU (default 1); only with gpus
 *   jobs: 8                      tasks at once in a CPU-only pool; not with gpus or per_gpu
 *   halt: never                  never (default: keep going), soon-after:N (start nothing new after N failed
 *                                tasks, let running ones finish), now-after:N (also stop the running ones)
 *   preflight: warn              before a task starts on a GPU, when processes other than this pool's use it
 *                                or min_free_mem is not free: ignore | warn (default) | wait | reap | fail
 *   min_free_mem: 2GiB           optional; 512MiB, 2GiB, 1.5G (binary) or 2GB (decimal); a unit is required
 *   grace: 10s                   default time between the stop signal and SIGKILL (default 10s)
 *   log_max: 100M                cap of each task's log (default 100M; K, M, G are 1024-based, at least 4K):
 *                                past it the log rotates to NAME.log.1, keeping the newest output
 *   cwd: .                       directory the commands run in; relative paths start at the directory that
 *                                holds this file, which is also the default
 *   env: {KEY: value}            extra environment for every task (not CUDA_VISIBLE_DEVICES, CORRAL_*)
 *   items:                       required: at least one item; an item may repeat (as in GNU parallel): {#}
 *                                tells the copies apart, and resume knows a task by stage, item number and value
 *     [a.pt, b.pt]                 inline values; a mapping entry ({ckpt: a.pt, seed: 1}) gives fields
 *     {file: ckpts.txt}            one item per non-blank line, relative to this file's directory
 *     {file: items.jsonl}          one JSON object (fields) or string per line; `.jsonl`/`.ndjson`, or
 *                                  say `format: jsonl` / `format: text`
 *   stages:                      required, at least one; each runs once per item
 *     - name: sample             letters, digits, . _ -; required when there are several stages
 *       run: python3 s.py {}     a string runs with `sh -c` (substituted values are shell-quoted: do not
 *                                quote placeholders yourself), a list is the argv itself. Placeholders:
 *                                {} or {item} the item, {#} its number (1-based, stable), {gpu} the slot's
 *                                GPU, {field} a field of an object item; {{ is a literal {; ${VAR} is left
 *                                to the shell. An unknown placeholder is an error before anything starts.
 *       needs: [other]           per item: starts for item X once these stages succeeded for X (pipelined)
 *       timeout: 1h              per attempt (default none)
 *       retries: 2               attempts after a failed one (default 0)
 *       backoff: 5s              delay before the first retry (default 1s), doubling each retry ...
 *       backoff_max: 1m          ... up to this (default no cap)
 *       stop_signal: TERM        signal that starts the teardown (default TERM)
 *       grace: 30s               overrides the pool's grace for this stage
 *       cwd: sub/                overrides the pool's cwd (relative to this file's directory)
 *       env: {KEY: value}        added to the pool's env
 *
 * Any mistake is a UsageError naming file:line:col, the key path (`stages[1].timeout`), what was expected
 * and what was found, with "did you mean" for a misspelt key; nothing has started when it is thrown.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.ts';
import { MAX_SLOTS, buildSlots, parseGpuEntries, parseGpuList } from './gpu-list.ts';
import { buildItems, readItemsFile, type ItemSource, type ItemsFormat } from './items.ts';
import { readDirectory, readEnv, readStages } from './pool-file-stages.ts';
import { DEFAULT_GRACE_MS, DEFAULT_PREFLIGHT, type PoolItem, type PoolSlot, type PoolSpec } from './pool-spec.ts';
import { parseCount, parseDurationValue, parseHalt, parseMemSize, parsePreflight } from './pool-values.ts';
import { MIN_LOG_MAX, parseSize } from './size.ts';
import { YamlSource, type YamlValue } from './yaml-reader.ts';

export const POOL_KEYS = ['name', 'gpus', 'per_gpu', 'jobs', 'halt', 'preflight', 'min_free_mem', 'grace', 'log_max', 'cwd', 'env', 'items', 'stages'];
export const ITEMS_FILE_KEYS = ['file', 'format'];
const ITEMS_EXPECTED = 'a list of items, or {file: PATH}';

type Keys = Map<string, YamlValue>;

/**
 * `gpus: 2` reads as "two GPUs" to many and as "GPU 2" to others: a bare number of 1 or more is refused
 * with both spellings. `gpus: 0` can only mean GPU 0 (no pool has zero GPUs), so it stays accepted.
 */
function refuseGpuCount(v: string | number): string {
  if (typeof v !== 'number' || v < 1 || !Number.isInteger(v)) return String(v);
  const count = v === 1 ? 'gpus: [0] (or gpus: 0) for one GPU' : `gpus: 0-${v - 1} for ${v} GPUs`;
  throw new UsageError(`expected GPU indexes, found the bare number ${v}, which could mean GPU ${v} or ${v} GPU${v === 1 ? '' : 's'}`, `write gpus: [${v}] for GPU index ${v}, or ${count}`);
}

function readSlots(root: YamlValue, keys: Keys): { gpus: number[]; perGpu: number; slots: PoolSlot[] } {
  const gpusValue = keys.get('gpus');
  const perGpuValue = keys.get('per_gpu');
  const jobsValue = keys.get('jobs');
  if (jobsValue && perGpuValue) perGpuValue.fail('expected either gpus with per_gpu, or jobs (a CPU-only pool), found per_gpu beside jobs');
  if (jobsValue && gpusValue) jobsValue.fail('expected either gpus (with per_gpu), or jobs for a CPU-only pool, found both gpus and jobs');
  if (jobsValue) {
    const jobs = jobsValue.parse('a count', (v) => parseCount(v, 1, MAX_SLOTS));
    return { gpus: [], perGpu: 1, slots: buildSlots([], 1, jobs) };
  }
  if (!gpusValue) return root.missing('gpus', 'GPU indexes such as 0-3 (or jobs: N for a CPU-only pool)');
  const gpus = gpusValue.isList()
    ? gpusValue.attempt(() => parseGpuEntries(gpusValue.list('GPU indexes').map((g) => g.string('a GPU index'))))
    : gpusValue.parse('GPU indexes such as 0,1 or 0-3', (v) => parseGpuList(refuseGpuCount(v)));
  const perGpu = perGpuValue ? perGpuValue.parse('a count', (v) => parseCount(v, 1, MAX_SLOTS)) : 1;
  return { gpus, perGpu, slots: (perGpuValue ?? gpusValue).attempt(() => buildSlots(gpus, perGpu, 0)) };
}

function readInlineItem(value: YamlValue): ItemSource {
  if (!value.isMapping()) return value.string('an item: a string, a number or a mapping of fields');
  const fields: Record<string, unknown> = {};
  for (const [k, v] of value.pairs('a mapping of fields')) {
    fields[k] = v.isNull() ? null : v.isList() || v.isMapping() ? v.toJS() : v.string();
  }
  return fields;
}

function readItems(value: YamlValue, baseDir: string): PoolItem[] {
  if (value.isList()) {
    const list = value.list(ITEMS_EXPECTED);
    if (list.length === 0) value.fail('expected at least one item, found an empty list', 'list items, or read them with items: {file: PATH}');
    return value.attempt(() => buildItems(list.map(readInlineItem)));
  }
  const hint = value.isMapping() || value.isNull() ? undefined : `to read items from a file, write items: {file: ${value.describe()}}`;
  if (!value.isMapping()) value.expect(ITEMS_EXPECTED, hint);
  const keys = value.entries(ITEMS_EXPECTED, ITEMS_FILE_KEYS);
  const fileValue = keys.get('file') ?? value.missing('file', 'the path of an items file');
  const formatValue = keys.get('format');
  const format = formatValue?.parse('text or jsonl', (v) => {
    if (v === 'text' || v === 'jsonl') return v as ItemsFormat;
    throw new UsageError(`expected text or jsonl, found '${v}'`);
  });
  const path = resolve(baseDir, fileValue.string('the path of an items file'));
  const items = fileValue.attempt(() => readItemsFile(path, format));
  if (items.length === 0) fileValue.fail(`expected at least one item, found an empty items file (${path})`);
  return items;
}

/** Validates a pool file's text; `baseDir` is where its relative paths start. `source` is left null. */
export function parsePoolText(text: string, file: string, baseDir: string): PoolSpec {
  const root = new YamlSource(file, text).root();
  if (root.isNull()) root.fail('expected a mapping of pool settings (gpus, items, stages), found an empty file');
  const keys = root.entries('a mapping of pool settings (gpus, items, stages)', POOL_KEYS);
  const get = <T>(key: string, fn: (v: YamlValue) => T, fallback: T): T => {
    const v = keys.get(key);
    return v && !v.isNull() ? fn(v) : fallback;
  };
  const name = get('name', (v) => v.string('a name'), null);
  const cwd = get('cwd', (v) => readDirectory(v, baseDir), baseDir);
  const { gpus, perGpu, slots } = readSlots(root, keys);
  const halt = get('halt', (v) => v.parse('a halt policy', (x) => parseHalt(String(x))), { mode: 'never' } as PoolSpec['halt']);
  const preflight = get('preflight', (v) => v.parse('a preflight policy', (x) => parsePreflight(String(x))), DEFAULT_PREFLIGHT);
  const minFreeMemBytes = get('min_free_mem', (v) => v.parse('a memory size', parseMemSize), null);
  const graceMs = get('grace', (v) => v.parse('a duration', (x) => parseDurationValue(x, true)), DEFAULT_GRACE_MS);
  const logMaxBytes = get('log_max', (v) => v.parse('a size', (x) => parseSize(String(x), 'log_max', MIN_LOG_MAX)), null);
  const env = get('env', readEnv, {});
  const items = readItems(keys.get('items') ?? root.missing('items', ITEMS_EXPECTED), baseDir);
  const stagesValue = keys.get('stages') ?? root.missing('stages', 'a list of stages, each with a name and run');
  const stages = readStages(stagesValue, items, gpus.length > 0, { cwd, env, graceMs, baseDir });
  return { name, source: null, cwd, gpus, perGpu, slots, halt, preflight, minFreeMemBytes, graceMs, logMaxBytes, items, stages };
}

/** Loads and validates a pool file; every mistake is a UsageError with file:line:col and the key. */
export function loadPoolFile(path: string): PoolSpec {
  const abs = resolve(path);
  let text: string;
  try {
    // a device (/dev/zero) or a FIFO would never end: a pool file is a regular file of sensible size
    const st = statSync(abs);
    if (!st.isFile() && !st.isDirectory()) throw new UsageError(`cannot read pool file ${path}: expected a regular file, found a special file (a device, FIFO or socket)`);
    if (st.size > 16 << 20) throw new UsageError(`cannot read pool file ${path}: expected at most 16 MiB, found ${st.size} bytes`, 'read items from a file: items: {file: PATH}');
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(err));
    throw new UsageError(`cannot read pool file ${path}: ${why}`);
  }
  return { ...parsePoolText(text, path, dirname(abs)), source: abs };
}
