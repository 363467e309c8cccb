import assert from 'node:assert/strict';
import { test } from 'node:test';
import { visible, visibleDeep } from '../../src/cli/output.ts';
import { configForLedger } from '../../src/jobs/run-session.ts';

test('visible: controls, DEL, C1, bidi and zero-width characters become escapes; everything else is kept', () => {
  assert.equal(visible('a\x1b[2Jb\x07c\nd\te\r\x00\x7f'), 'a\\e[2Jb\\ac\\nd\\te\\r\\x00\\x7f');
  assert.equal(visible('\u009b31m\u0085'), '\\x9b31m\\x85');
  assert.equal(visible('x\u202ey\u2066z\u2069\u200b\u200f\u061c\ufeff\u2028'), 'x\\u202ey\\u2066z\\u2069\\u200b\\u200f\\u061c\\ufeff\\u2028');
  assert.equal(visible('plain ünïcödé 中文 -- --flag=1 $HOME'), 'plain ünïcödé 中文 -- --flag=1 $HOME');
  assert.deepEqual(visibleDeep({ a: ['\x1b', { b: '\x07' }], n: 3, m: new Map([['k', '\x1b']]) }), { a: ['\\e', { b: '\\a' }], n: 3, m: new Map([['k', '\x1b']]) });
});

test('configForLedger keeps the names of every env map and none of its values', () => {
  const c = configForLedger({ main: { argv: ['x'], env: { B: 'secret-b', A: 'secret-a' } }, pool: { stages: [{ name: 's', env: { HF_TOKEN: 'hf_x' } }] } });
  assert.deepEqual(c, { main: { argv: ['x'], envNames: ['A', 'B'] }, pool: { stages: [{ name: 's', envNames: ['HF_TOKEN'] }] } });
  assert.ok(!JSON.stringify(c).includes('secret') && !JSON.stringify(c).includes('hf_x'));
});

test('a pool resumed from the ledger alone takes env values from the environment, and names the missing ones', async () => {
  const { specFromLedger } = await import('../../src/jobs/pool-resume.ts');
  type From = Parameters<typeof specFromLedger>[0];
  const from = { run: { id: 'R1' }, spec: { stages: [{ name: 's', envNames: ['HF_TOKEN', 'OTHER'] }] }, done: new Set() } as unknown as From;
  assert.deepEqual(specFromLedger(from, { HF_TOKEN: 'a', OTHER: 'b' }).stages[0]!.env, { HF_TOKEN: 'a', OTHER: 'b' });
  assert.throws(() => specFromLedger(from, { HF_TOKEN: 'a' }), (e: Error & { hint?: string }) => /run R1 set OTHER for its tasks; the ledger keeps no environment values/.test(e.message) && /corral pool FILE --resume R1/.test(e.hint ?? ''));
});
