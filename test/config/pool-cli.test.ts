import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildCliPool } from '../../src/config/pool-cli.ts';
import { makeTempDir } from './temp-pool.ts';

test('the issue example: --gpus 0-3 --per-gpu 2 -- python sample.py --ckpt {} ::: a.pt b.pt', () => {
  const spec = buildCliPool({ gpus: '0-3', perGpu: '2', timeout: '1h', retries: '2', cwd: '/tmp' }, ['python', 'sample.py', '--ckpt', '{}', ':::', 'a.pt', 'b.pt']);
  assert.equal(spec.slots.length, 8);
  assert.deepEqual(spec.slots.slice(0, 5).map((s) => s.gpu), [0, 1, 2, 3, 0]);
  assert.deepEqual(spec.items.map((i) => i.value), ['a.pt', 'b.pt']);
  assert.equal(spec.source, null);
  assert.equal(spec.cwd, '/tmp');
  assert.equal(spec.stages.length, 1);
  const st = spec.stages[0]!;
  assert.deepEqual(st.run, { kind: 'argv', argv: ['python', 'sample.py', '--ckpt', '{}'] });
  assert.deepEqual([st.name, st.timeoutMs, st.retries, st.stopSignal, st.cwd], ['task', 3_600_000, 2, 'SIGTERM', '/tmp']);
});

test('one word after -- is a shell command; a command without placeholders gets the item appended', () => {
  assert.deepEqual(buildCliPool({ jobs: 2 }, ['echo {} > {#}.out', ':::', 'x']).stages[0]!.run, { kind: 'shell', script: 'echo {} > {#}.out' });
  assert.deepEqual(buildCliPool({ jobs: 2 }, ['gzip', '-9', ':::', 'x']).stages[0]!.run, { kind: 'argv', argv: ['gzip', '-9', '{}'] });
  assert.deepEqual(buildCliPool({ jobs: 2 }, ['wc -l', ':::', 'x']).stages[0]!.run, { kind: 'shell', script: 'wc -l {}' });
});

test('--jobs gives CPU-only slots; every option is resolved', () => {
  const spec = buildCliPool(
    { jobs: '3', halt: 'now-after:2', preflight: 'fail', minFreeMem: '512MiB', grace: '3s', backoff: '2s', backoffMax: '10s', stopSignal: 'INT', name: 'n' },
    ['true', ':::', 'a'],
  );
  assert.deepEqual(spec.slots, [{ index: 0, gpu: null }, { index: 1, gpu: null }, { index: 2, gpu: null }]);
  assert.deepEqual(spec.halt, { mode: 'now', failures: 2 });
  assert.deepEqual([spec.preflight, spec.minFreeMemBytes, spec.graceMs, spec.name], ['fail', 512 * 2 ** 20, 3_000, 'n']);
  const st = spec.stages[0]!;
  assert.deepEqual([st.backoffMs, st.backoffMaxMs, st.stopSignal, st.graceMs], [2_000, 10_000, 'SIGINT', 3_000]);
});

test('--items reads a file relative to cwd (JSONL gives fields)', () => {
  const dir = makeTempDir();
  writeFileSync(join(dir, 'it.jsonl'), '{"ckpt":"a.pt"}\n{"ckpt":"b.pt"}\n');
  const spec = buildCliPool({ gpus: '0', items: 'it.jsonl', cwd: dir }, ['python', 's.py', '{ckpt}', '{gpu}']);
  assert.deepEqual(spec.items.map((i) => i.fields.ckpt), ['a.pt', 'b.pt']);
});

const mistakes: [string, Parameters<typeof buildCliPool>[0], string[], RegExp][] = [
  ['per-gpu with jobs', { jobs: 2, perGpu: 2 }, ['x', ':::', 'a'], /^--per-gpu: expected either --gpus with --per-gpu, or --jobs, found both/],
  ['gpus with jobs', { jobs: 2, gpus: '0' }, ['x', ':::', 'a'], /^--jobs: expected either --gpus/],
  ['no slots', {}, ['x', ':::', 'a'], /^expected --gpus \(e\.g\. 0-3\) or --jobs N, found neither/],
  ['bad gpu list', { gpus: '0-' }, ['x', ':::', 'a'], /^--gpus: expected GPU indexes such as 0,1 or 0-3 or 0-1,4, found '0-'/],
  ['zero per-gpu', { gpus: '0', perGpu: '0' }, ['x', ':::', 'a'], /^--per-gpu: expected a whole number of at least 1, found '0'/],
  ['negative retries', { gpus: '0', retries: '-2' }, ['x', ':::', 'a'], /^--retries: expected a whole number of at least 0, found '-2'/],
  ['bad timeout', { gpus: '0', timeout: 'soon' }, ['x', ':::', 'a'], /^--timeout: expected a duration such as 500ms, 90s, 10m or 1h30m, found 'soon'/],
  ['bad signal', { gpus: '0', stopSignal: 'TREM' }, ['x', ':::', 'a'], /^--stop-signal: expected a signal .* found 'TREM' \(did you mean SIGTERM\?\)/],
  ['bad halt', { gpus: '0', halt: 'soon' }, ['x', ':::', 'a'], /^--halt: expected never, soon-after:N or now-after:N/],
  ['bad memory', { gpus: '0', minFreeMem: 'lots' }, ['x', ':::', 'a'], /^--min-free-mem: expected a memory size/],
  ['no command', { gpus: '0' }, [':::', 'a'], /^expected a command after --, found none/],
  ['no items', { gpus: '0' }, ['x', '{}'], /^expected items after ::: or --items FILE, found neither/],
  ['empty ::: list', { gpus: '0' }, ['x', ':::'], /^expected at least one item, found none after :::/],
  ['two item sources', { gpus: '0', items: 'f.txt' }, ['x', ':::', 'a'], /^expected items after ::: or from --items, found both/],
  ['two ::: lists', { gpus: '0' }, ['x', ':::', 'a', ':::', 'b'], /^expected one ::: list of items, found several/],
  ['missing items file', { gpus: '0', items: 'nope.txt', cwd: '/nonexistent' }, ['x'], /^--items: expected a readable items file, found no file at \/nonexistent\/nope\.txt/],
  ['unknown placeholder', { gpus: '0' }, ['x', '{itme}', ':::', 'a'], /^the command: expected a placeholder .*found unknown placeholder \{itme\} \(did you mean \{item\}\?\)/],
  ['{gpu} without gpus', { jobs: 1 }, ['x', '{gpu}', ':::', 'a'], /^the command: expected a pool with gpus for \{gpu\}/],
];

for (const [kind, opts, argv, message] of mistakes) {
  test(`command-line mistake: ${kind}`, () => {
    assert.throws(() => buildCliPool(opts, argv), { name: 'UsageError', message });
  });
}
