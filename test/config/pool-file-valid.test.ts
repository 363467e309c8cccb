import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadPoolFile } from '../../src/config/pool-file.ts';
import { renderCommand } from '../../src/config/template.ts';
import { writePool, yamlLines } from './temp-pool.ts';

test('the shipped example loads: 8 items, 2 GPUs x 2 slots, sample before evaluate, cwd = examples/', () => {
  const spec = loadPoolFile('examples/pool.yaml');
  assert.equal(spec.name, 'sample-then-evaluate');
  assert.equal(spec.source, resolve('examples/pool.yaml'));
  assert.equal(spec.cwd, resolve('examples'));
  assert.equal(spec.items.length, 8);
  assert.deepEqual(spec.slots, [
    { index: 0, gpu: 0 },
    { index: 1, gpu: 1 },
    { index: 2, gpu: 0 },
    { index: 3, gpu: 1 },
  ]);
  assert.deepEqual(spec.stages.map((s) => [s.name, s.needs]), [['sample', []], ['evaluate', ['sample']]]);
  const sample = spec.stages[0]!;
  assert.equal(sample.timeoutMs, 60_000);
  assert.equal(sample.retries, 2);
  assert.equal(sample.stopSignal, 'SIGTERM');
  assert.equal(sample.graceMs, 5_000);
  const argv = renderCommand(sample.run, { item: spec.items[2]!, gpu: 1 });
  assert.deepEqual(argv, ['sh', '-c', 'python3 pool/sample.py --ckpt ckpt/step-03000.pt --gpu 1 --out pool/out/3.json']);
});

test('defaults: halt never, preflight warn, grace 10s, no timeout, 0 retries, backoff 1s, TERM, stage named task', () => {
  const spec = loadPoolFile(writePool(yamlLines('gpus: 0', 'items: [a]', 'stages:', '  - run: echo {}')));
  assert.deepEqual(spec.halt, { mode: 'never' });
  assert.equal(spec.preflight, 'warn');
  assert.equal(spec.minFreeMemBytes, null);
  assert.equal(spec.graceMs, 10_000);
  assert.equal(spec.perGpu, 1);
  assert.deepEqual(spec.stages[0], {
    name: 'task', needs: [], run: { kind: 'shell', script: 'echo {}' }, cwd: spec.cwd, env: {},
    timeoutMs: null, retries: 0, backoffMs: 1_000, backoffMaxMs: null, stopSignal: 'SIGTERM', graceMs: 10_000,
  });
});

test('every key resolved: halt, preflight, memory, grace, env merge, stage cwd, signals, durations', () => {
  const path = writePool(
    yamlLines(
      'name: full',
      'gpus: [0, "2-3"]',
      'per_gpu: 1',
      'halt: soon-after:3',
      'preflight: wait',
      'min_free_mem: 2GiB',
      'grace: 2s',
      'env: {A: 1, B: two}',
      'items: [a, b]',
      'stages:',
      '  - name: one',
      '    run: [echo, "{}"]',
      '    cwd: sub',
      '    env: {B: three}',
      '    timeout: 1h30m',
      '    retries: 3',
      '    backoff: 500ms',
      '    backoff_max: 4s',
      '    stop_signal: int',
      '    grace: 0s',
    ),
  );
  mkdirSync(join(dirname(path), 'sub'));
  const spec = loadPoolFile(path);
  assert.deepEqual(spec.gpus, [0, 2, 3]);
  assert.deepEqual(spec.halt, { mode: 'soon', failures: 3 });
  assert.equal(spec.preflight, 'wait');
  assert.equal(spec.minFreeMemBytes, 2 * 2 ** 30);
  assert.equal(spec.graceMs, 2_000);
  const st = spec.stages[0]!;
  assert.equal(st.cwd, join(dirname(path), 'sub'));
  assert.deepEqual(st.env, { A: '1', B: 'three' });
  assert.deepEqual([st.timeoutMs, st.retries, st.backoffMs, st.backoffMaxMs, st.stopSignal, st.graceMs], [5_400_000, 3, 500, 4_000, 'SIGINT', 0]);
});

test('stages come out in dependency order, stable otherwise; needs may be a single name', () => {
  const spec = loadPoolFile(
    writePool(
      yamlLines(
        'jobs: 2', 'items: [x]', 'stages:',
        '  - {name: report, needs: [evaluate, plot], run: "echo {}"}',
        '  - {name: evaluate, needs: sample, run: "echo {}"}',
        '  - {name: plot, needs: sample, run: "echo {}"}',
        '  - {name: sample, run: "echo {}"}',
      ),
    ),
  );
  assert.deepEqual(spec.stages.map((s) => s.name), ['sample', 'evaluate', 'plot', 'report']);
  assert.deepEqual(spec.slots, [{ index: 0, gpu: null }, { index: 1, gpu: null }]);
  assert.deepEqual(spec.gpus, []);
});

test('items: a text file and a JSONL file relative to the pool file, and inline mappings with fields', () => {
  const text = loadPoolFile(writePool(yamlLines('gpus: 0', 'items: {file: list.txt}', 'stages:', '  - run: echo {}'), { 'list.txt': 'a.pt\r\n\nb c.pt\n' }));
  assert.deepEqual(text.items, [{ index: 0, value: 'a.pt', fields: {} }, { index: 1, value: 'b c.pt', fields: {} }]);

  const jsonl = loadPoolFile(writePool(yamlLines('gpus: 0', 'items: {file: it.jsonl}', 'stages:', '  - run: echo {ckpt} {seed}'), { 'it.jsonl': '{"ckpt":"a.pt","seed":1}\n{"ckpt":"b.pt","seed":2}\n' }));
  assert.deepEqual(jsonl.items[1], { index: 1, value: '{"ckpt":"b.pt","seed":2}', fields: { ckpt: 'b.pt', seed: '2' } });

  const inline = loadPoolFile(writePool(yamlLines('gpus: 0', 'items:', '  - {ckpt: a.pt, lr: 1e-4}', '  - {ckpt: b.pt, lr: 3e-4}', 'stages:', '  - run: train --lr {lr} {ckpt}')));
  assert.deepEqual(inline.items[0]!.fields, { ckpt: 'a.pt', lr: '1e-4' });
});

test('inline scalar items keep their text as written (1.0 stays 1.0)', () => {
  const spec = loadPoolFile(writePool(yamlLines('gpus: 0', 'items: [1.0, 0x10, true, "quoted"]', 'stages:', '  - run: echo {}')));
  assert.deepEqual(spec.items.map((i) => i.value), ['1.0', '0x10', 'true', 'quoted']);
});

test('a JSONL field used by a template must be present in every item', () => {
  const path = writePool(yamlLines('gpus: 0', 'items: {file: it.jsonl}', 'stages:', '  - run: echo {seed}'), { 'it.jsonl': '{"seed":1}\n{"other":2}\n' });
  assert.throws(() => loadPoolFile(path), /:4:15: stages\[0\]\.run: expected every item to have the field 'seed', found item 2 without it/);
});

test('shell code in a string command is left alone: ${VAR}, {a,b}, awk blocks, {{', () => {
  const path = writePool(yamlLines('gpus: 0', 'items: [a]', 'stages:', "  - run: echo ${HOME} {x,y} {{} | awk '{ print $1 }'"));
  assert.equal(loadPoolFile(path).items.length, 1);
});
