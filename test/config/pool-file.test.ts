import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/config/errors.ts';
import { loadPoolFile } from '../../src/config/pool-file.ts';
import { writePool, yamlLines } from './temp-pool.ts';

/**
 * The table of malformed pool files: each gives a UsageError naming file:line:col, the key path,
 * what was expected and what was found. Line numbers can be read off the arrays (first line is 1).
 */
interface Mistake {
  kind: string;
  yaml: string[];
  files?: Record<string, string>;
  /** line:col of the error */
  at: string;
  /** key path; null for a YAML syntax error */
  key: string | null;
  says: RegExp[];
  hint?: RegExp;
}

const HEAD = ['gpus: 0-1', 'per_gpu: 2', 'items: [a.pt, b.pt]', 'stages:'];
const SAMPLE = ['  - name: sample', '    run: python3 s.py {}'];

const mistakes: Mistake[] = [
  { kind: 'YAML syntax error', yaml: ['gpus: 0-1', 'items: [a.pt]', 'halt: soon-after: 3'], at: '3:7', key: null, says: [/invalid YAML: Nested mappings/], hint: /quote a value/ },
  { kind: 'duplicate key', yaml: ['gpus: 0-1', 'gpus: 2'], at: '2:1', key: null, says: [/invalid YAML: Map keys must be unique/] },
  { kind: 'empty file', yaml: ['# nothing here'], at: '1:1', key: null, says: [/expected a mapping of pool settings/, /found an empty file/] },
  { kind: 'misspelt stage key', yaml: [...HEAD, ...SAMPLE, '    timout: 1h'], at: '7:5', key: 'stages[0].timout', says: [/unknown key 'timout', did you mean timeout\?/], hint: /name, run, needs, timeout/ },
  { kind: 'misspelt top-level key', yaml: ['gpus: 0-1', 'per_gpus: 2', 'items: [a]', 'stages:', ...SAMPLE], at: '2:1', key: 'per_gpus', says: [/did you mean per_gpu\?/] },
  { kind: 'unknown key, nothing close', yaml: [...HEAD, ...SAMPLE, '    colour: red'], at: '7:5', key: 'stages[0].colour', says: [/unknown key 'colour'; expected one of name, run/] },
  { kind: 'wrong type: stages a string', yaml: [...HEAD.slice(0, 3), 'stages: sample'], at: '4:9', key: 'stages', says: [/expected a list of stages/, /found 'sample'/] },
  { kind: 'wrong type: run a mapping', yaml: [...HEAD, '  - name: sample', '    run: {cmd: x}'], at: '6:10', key: 'stages[0].run', says: [/expected a command: a string \(run with sh -c\) or a list of arguments, found a mapping/], hint: /quote a command/ },
  { kind: 'wrong type: retries a list', yaml: [...HEAD, ...SAMPLE, '    retries: [1]'], at: '7:14', key: 'stages[0].retries', says: [/expected a count, found a list/] },
  { kind: 'bad duration', yaml: [...HEAD, ...SAMPLE, '    timeout: 1 hour'], at: '7:14', key: 'stages[0].timeout', says: [/expected a duration such as 500ms, 90s, 10m or 1h30m/, /found '1 hour'/] },
  { kind: 'zero timeout', yaml: [...HEAD, ...SAMPLE, '    timeout: 0s'], at: '7:14', key: 'stages[0].timeout', says: [/expected a duration above zero, found '0s'/] },
  { kind: 'bad signal', yaml: [...HEAD, ...SAMPLE, '    stop_signal: TREM'], at: '7:18', key: 'stages[0].stop_signal', says: [/expected a signal such as TERM/, /found 'TREM' \(did you mean SIGTERM\?\)/] },
  { kind: 'negative retries', yaml: [...HEAD, ...SAMPLE, '    retries: -1'], at: '7:14', key: 'stages[0].retries', says: [/expected a whole number of at least 0, found -1/] },
  { kind: 'zero per_gpu', yaml: ['gpus: 0-1', 'per_gpu: 0', 'items: [a]', 'stages:', ...SAMPLE], at: '2:10', key: 'per_gpu', says: [/expected a whole number of at least 1, found 0/] },
  {
    kind: 'unknown needs stage',
    yaml: [...HEAD, ...SAMPLE, '  - name: evaluate', '    needs: [sampel]', '    run: python3 e.py {}'],
    at: '8:13',
    key: 'stages[1].needs[0]',
    says: [/expected the name of another stage \(sample\)/, /found 'sampel' \(did you mean sample\?\)/],
  },
  {
    kind: 'dependency cycle',
    yaml: [...HEAD, '  - name: a', '    needs: b', '    run: echo {}', '  - name: b', '    needs: [a]', '    run: echo {}'],
    at: '6:12',
    key: 'stages[0].needs',
    says: [/expected stages without a dependency cycle, found a -> b -> a/],
  },
  { kind: 'stage needs itself', yaml: [...HEAD, ...SAMPLE, '    needs: [sample]'], at: '7:12', key: 'stages[0].needs', says: [/expected stages without a dependency cycle, found sample -> sample/] },
  {
    kind: 'duplicate stage names',
    yaml: [...HEAD, ...SAMPLE, '  - name: sample', '    run: echo {}'],
    at: '7:11',
    key: 'stages[1].name',
    says: [/expected a stage name used once, found 'sample' again \(stages\[0\] has it\)/],
  },
  { kind: 'bad stage name', yaml: [...HEAD, '  - name: "my stage"', '    run: echo {}'], at: '5:11', key: 'stages[0].name', says: [/expected a stage name of letters/, /found 'my stage'/] },
  { kind: 'empty items', yaml: ['gpus: 0', 'items: []', 'stages:', ...SAMPLE], at: '2:8', key: 'items', says: [/expected at least one item, found an empty list/] },
  { kind: 'empty items file', yaml: ['gpus: 0', 'items: {file: ckpts.txt}', 'stages:', ...SAMPLE], files: { 'ckpts.txt': '\n  \n' }, at: '2:15', key: 'items.file', says: [/expected at least one item, found an empty items file/] },
  { kind: 'items file missing', yaml: ['gpus: 0', 'items: {file: nope.txt}', 'stages:', ...SAMPLE], at: '2:15', key: 'items.file', says: [/expected a readable items file, found no file at \/.*\/nope\.txt/] },
  { kind: 'items given as a bare path', yaml: ['gpus: 0', 'items: ckpts.txt', 'stages:', ...SAMPLE], at: '2:8', key: 'items', says: [/expected a list of items, or \{file: PATH\}, found 'ckpts.txt'/], hint: /items: \{file: 'ckpts.txt'\}/ },
  { kind: 'invalid JSONL line', yaml: ['gpus: 0', 'items: {file: items.jsonl}', 'stages:', ...SAMPLE], files: { 'items.jsonl': '{"ckpt": "a.pt"}\n{"ckpt": \n' }, at: '2:15', key: 'items.file', says: [/invalid JSON at .*items\.jsonl:2/] },
  { kind: 'bad gpu list', yaml: ['gpus: 0,,1', 'items: [a]', 'stages:', ...SAMPLE], at: '1:7', key: 'gpus', says: [/expected GPU indexes such as 0,1 or 0-3 or 0-1,4, found '0,,1'/] },
  { kind: 'bare GPU number (index or count?)', yaml: ['gpus: 2', 'items: [a]', 'stages:', ...SAMPLE], at: '1:7', key: 'gpus', says: [/found the bare number 2, which could mean GPU 2 or 2 GPUs/], hint: /gpus: \[2\] for GPU index 2, or gpus: 0-1 for 2 GPUs/ },
  { kind: 'bare GPU number 1', yaml: ['gpus: 1', 'items: [a]', 'stages:', ...SAMPLE], at: '1:7', key: 'gpus', says: [/could mean GPU 1 or 1 GPU\b/], hint: /gpus: \[1\] for GPU index 1, or gpus: \[0\] \(or gpus: 0\) for one GPU/ },
  { kind: 'backwards gpu range', yaml: ['gpus: 3-1', 'items: [a]', 'stages:', ...SAMPLE], at: '1:7', key: 'gpus', says: [/expected GPU indexes/, /found '3-1'/], hint: /runs backwards; write 1-3/ },
  { kind: 'per_gpu with jobs', yaml: ['jobs: 4', 'per_gpu: 2', 'items: [a]', 'stages:', ...SAMPLE], at: '2:10', key: 'per_gpu', says: [/expected either gpus with per_gpu, or jobs \(a CPU-only pool\), found per_gpu beside jobs/] },
  { kind: 'neither gpus nor jobs', yaml: ['items: [a]', 'stages:', ...SAMPLE], at: '1:1', key: 'gpus', says: [/expected GPU indexes such as 0-3 \(or jobs: N for a CPU-only pool\), found nothing \(the key is missing\)/] },
  { kind: 'missing run', yaml: [...HEAD, '  - name: sample', '    timeout: 1h'], at: '5:5', key: 'stages[0].run', says: [/expected a command: a string \(run with sh -c\) or a list of arguments, found nothing \(the key is missing\)/] },
  { kind: 'missing name among several stages', yaml: [...HEAD, ...SAMPLE, '  - run: echo {}'], at: '7:5', key: 'stages[1].name', says: [/expected a stage name \(required when there are several stages\), found nothing/] },
  { kind: 'bad halt policy', yaml: ['gpus: 0', 'halt: sometimes', 'items: [a]', 'stages:', ...SAMPLE], at: '2:7', key: 'halt', says: [/expected never, soon-after:N or now-after:N \(N at least 1\), found 'sometimes'/] },
  { kind: 'halt after zero failures', yaml: ['gpus: 0', 'halt: now-after:0', 'items: [a]', 'stages:', ...SAMPLE], at: '2:7', key: 'halt', says: [/found 'now-after:0'/] },
  { kind: 'bad preflight policy', yaml: ['gpus: 0', 'preflight: wiat', 'items: [a]', 'stages:', ...SAMPLE], at: '2:12', key: 'preflight', says: [/expected one of ignore, warn, wait, reap, fail, found 'wiat' \(did you mean wait\?\)/] },
  {
    kind: 'unknown template placeholder',
    yaml: ['gpus: 0', 'items: {file: items.jsonl}', 'stages:', '  - name: sample', '    run: python3 s.py --ckpt {ckp}'],
    files: { 'items.jsonl': '{"ckpt": "a.pt", "seed": 1}\n' },
    at: '5:30',
    key: 'stages[0].run',
    says: [/expected a placeholder \(one of \{\}, \{item\}, \{#\}, \{gpu\}, \{ckpt\}, \{seed\}\)/, /found unknown placeholder \{ckp\} \(did you mean \{ckpt\}\?\)/],
  },
  { kind: 'placeholder in an argv list', yaml: ['gpus: 0', 'items: [a]', 'stages:', '  - run: [python3, s.py, "{ckpt}"]'], at: '4:27', key: 'stages[0].run[2]', says: [/found unknown placeholder \{ckpt\}/] },
  { kind: '{gpu} in a CPU-only pool', yaml: ['jobs: 2', 'items: [a]', 'stages:', '  - run: python3 s.py {} --gpu {gpu}'], at: '4:32', key: 'stages[0].run', says: [/expected a pool with gpus for \{gpu\}, found a CPU-only pool/] },
  { kind: 'bad memory size', yaml: ['gpus: 0', 'min_free_mem: 2 gigs', 'items: [a]', 'stages:', ...SAMPLE], at: '2:15', key: 'min_free_mem', says: [/expected a memory size such as 512MiB or 2GiB, found '2 gigs'/] },
  { kind: 'memory size without unit', yaml: ['gpus: 0', 'min_free_mem: 2048', 'items: [a]', 'stages:', ...SAMPLE], at: '2:15', key: 'min_free_mem', says: [/found 2048/], hint: /add a unit/ },
  { kind: 'backoff_max below backoff', yaml: [...HEAD, ...SAMPLE, '    backoff: 10s', '    backoff_max: 2s'], at: '8:18', key: 'stages[0].backoff_max', says: [/expected a duration of at least backoff \(10s\), found '2s'/] },
  { kind: 'cwd missing', yaml: ['gpus: 0', 'cwd: nowhere', 'items: [a]', 'stages:', ...SAMPLE], at: '2:6', key: 'cwd', says: [/expected an existing directory \(.*\/nowhere is missing\), found 'nowhere'/] },
  { kind: 'reserved env variable', yaml: ['gpus: 0', 'env: {CUDA_VISIBLE_DEVICES: 3}', 'items: [a]', 'stages:', ...SAMPLE], at: '2:29', key: 'env.CUDA_VISIBLE_DEVICES', says: [/expected a variable corral does not set, found CUDA_VISIBLE_DEVICES/] },
  { kind: 'no stages', yaml: ['gpus: 0', 'items: [a]', 'stages: []'], at: '3:9', key: 'stages', says: [/expected at least one stage, found an empty list/] },
];

for (const m of mistakes) {
  test(`pool file mistake: ${m.kind}`, () => {
    const path = writePool(yamlLines(...m.yaml), m.files);
    assert.throws(
      () => loadPoolFile(path),
      (err: unknown) => {
        assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
        const prefix = `${path}:${m.at}: ${m.key === null ? '' : `${m.key}: `}`;
        assert.ok(err.message.startsWith(prefix), `message should start with\n  ${prefix}\nbut is\n  ${err.message}`);
        for (const re of m.says) assert.match(err.message, re);
        if (m.hint) assert.match(err.hint ?? '', m.hint);
        return true;
      },
    );
  });
}

test('the table covers at least twelve kinds of mistake', () => {
  assert.ok(new Set(mistakes.map((m) => m.kind)).size >= 12);
});

test('a pool file that does not exist is a UsageError naming it', () => {
  assert.throws(() => loadPoolFile('/nonexistent/pool.yaml'), { name: 'UsageError', message: 'cannot read pool file /nonexistent/pool.yaml: no such file' });
});
