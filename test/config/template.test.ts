import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PoolItem } from '../../src/config/pool-spec.ts';
import { checkTemplate, listPlaceholders, quoteShell, renderCommand, renderTemplate } from '../../src/config/template.ts';

const plain: PoolItem = { index: 4, value: 'ckpt/a b.pt', fields: {} };
const rich: PoolItem = { index: 0, value: '{"ckpt":"x.pt","seed":"7"}', fields: { ckpt: 'x.pt', seed: '7' } };

test('renders {}, {item}, {#} and {gpu}', () => {
  assert.equal(renderTemplate('{} | {item} | {#} | {gpu}', { item: plain, gpu: 3 }), 'ckpt/a b.pt | ckpt/a b.pt | 5 | 3');
});

test('renders {field} from an object item', () => {
  assert.equal(renderTemplate('--ckpt {ckpt} --seed {seed}', { item: rich, gpu: null }), '--ckpt x.pt --seed 7');
});

test('{{ is a literal brace, ${VAR} and non-placeholder braces stay as written', () => {
  assert.equal(renderTemplate('{{} ${HOME} ${x:-${y}} {a,b} { print $1 } {1..3}', { item: plain, gpu: 0 }), '{} ${HOME} ${x:-${y}} {a,b} { print $1 } {1..3}');
});

test('an unknown placeholder or a missing value is a UsageError', () => {
  assert.throws(() => renderTemplate('{nope}', { item: plain, gpu: 0 }), { name: 'UsageError', message: /item 5 has no field 'nope'/ });
  assert.throws(() => renderTemplate('{gpu}', { item: plain, gpu: null }), { name: 'UsageError', message: /CPU-only/ });
});

test('shell commands get quoted values; argv commands get them verbatim', () => {
  const shell = renderCommand({ kind: 'shell', script: 'python3 s.py --ckpt {} --gpu {gpu}' }, { item: plain, gpu: 1 });
  assert.deepEqual(shell, ['sh', '-c', "python3 s.py --ckpt 'ckpt/a b.pt' --gpu 1"]);
  const argv = renderCommand({ kind: 'argv', argv: ['python3', 's.py', '--ckpt={}'] }, { item: plain, gpu: 1 });
  assert.deepEqual(argv, ['python3', 's.py', '--ckpt=ckpt/a b.pt']);
});

test('quoteShell leaves safe words alone and survives single quotes', () => {
  assert.equal(quoteShell('ckpt/step-1000.pt'), 'ckpt/step-1000.pt');
  assert.equal(quoteShell(''), "''");
  assert.equal(quoteShell("it's"), `'it'\\''s'`);
});

test('listPlaceholders reports names and offsets', () => {
  assert.deepEqual(listPlaceholders('a {} b {#} {gpu} {{x}'), [
    { name: '', offset: 2, text: '{}' },
    { name: '#', offset: 7, text: '{#}' },
    { name: 'gpu', offset: 11, text: '{gpu}' },
  ]);
});

test('checkTemplate suggests a near field and rejects {gpu} without GPUs', () => {
  const bad = checkTemplate('x {sede}', [rich], true);
  assert.equal(bad?.offset, 2);
  assert.match(bad?.message ?? '', /found unknown placeholder \{sede\} \(did you mean \{seed\}\?\)/);
  assert.match(checkTemplate('{gpu}', [rich], false)?.message ?? '', /CPU-only pool/);
  assert.equal(checkTemplate('{} {#} {item} {gpu} {ckpt}', [rich], true), null);
});
