import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildItems, detectItemsFormat, parseJsonlItems, parseTextItems, readItemsFile } from '../../src/config/items.ts';
import { makeTempDir } from './temp-pool.ts';

test('text items: one per non-blank line, trimmed, CRLF-safe', () => {
  assert.deepEqual(parseTextItems('a.pt\r\n\n  b.pt  \n\n').map((i) => [i.index, i.value]), [[0, 'a.pt'], [1, 'b.pt']]);
});

test('JSONL items: objects give fields, scalars give values, nesting becomes JSON', () => {
  const items = parseJsonlItems('{"ckpt":"a.pt","seed":1,"tags":["x"],"note":null}\n\n"b.pt"\n3\n', 'f.jsonl');
  assert.deepEqual(items[0], { index: 0, value: '{"ckpt":"a.pt","seed":1,"tags":["x"],"note":null}', fields: { ckpt: 'a.pt', seed: '1', tags: '["x"]', note: '' } });
  assert.deepEqual(items.slice(1).map((i) => [i.index, i.value, i.fields]), [[1, 'b.pt', {}], [2, '3', {}]]);
});

test('JSONL errors name the file and line', () => {
  assert.throws(() => parseJsonlItems('{"a":1}\n{oops}\n', 'f.jsonl'), { name: 'UsageError', message: /^expected one JSON value per line, found invalid JSON at f\.jsonl:2: / });
  assert.throws(() => parseJsonlItems('[1,2]\n', 'f.jsonl'), { message: 'expected a JSON object, string or number per line, found an array at f.jsonl:1' });
  assert.throws(() => parseJsonlItems('null\n', 'f.jsonl'), { message: /found null at f\.jsonl:1/ });
});

test('format follows the extension', () => {
  assert.equal(detectItemsFormat('x.jsonl'), 'jsonl');
  assert.equal(detectItemsFormat('x.NDJSON'), 'jsonl');
  assert.equal(detectItemsFormat('x.txt'), 'text');
});

test('readItemsFile reads both formats and explains unreadable paths', () => {
  const dir = makeTempDir();
  writeFileSync(join(dir, 'a.txt'), 'one\ntwo\n');
  writeFileSync(join(dir, 'b.jsonl'), '{"k":"v"}\n');
  mkdirSync(join(dir, 'sub'));
  assert.equal(readItemsFile(join(dir, 'a.txt')).length, 2);
  assert.deepEqual(readItemsFile(join(dir, 'b.jsonl'))[0]!.fields, { k: 'v' });
  assert.deepEqual(readItemsFile(join(dir, 'b.jsonl'), 'text')[0]!.value, '{"k":"v"}');
  assert.throws(() => readItemsFile(join(dir, 'none.txt')), { message: `expected a readable items file, found no file at ${join(dir, 'none.txt')}` });
  assert.throws(() => readItemsFile(join(dir, 'sub')), { message: /found a directory at/ });
});

test('buildItems numbers items in order', () => {
  assert.deepEqual(buildItems(['x', 2, { a: 1 }]), [
    { index: 0, value: 'x', fields: {} },
    { index: 1, value: '2', fields: {} },
    { index: 2, value: '{"a":1}', fields: { a: '1' } },
  ]);
});
