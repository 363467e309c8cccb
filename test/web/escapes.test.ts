import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { visible } from '../../src/cli/output.ts';
import { ROOT } from '../helpers/corral.ts';

/** The page's own escaping (src/web/assets/dom.js), loaded as the browser loads it. */
function pageVisible(): (s: string) => string {
  const window: { corralDom?: { visible: (s: string) => string } } = {};
  runInNewContext(readFileSync(join(ROOT, 'src', 'web', 'assets', 'dom.js'), 'utf8'), { window });
  return window.corralDom!.visible;
}

test('the page shows every character of the Basic Multilingual Plane as the command line does: controls and bidi marks as visible escapes', () => {
  const page = pageVisible();
  const differ: string[] = [];
  for (let c = 0; c <= 0xffff; c++) {
    const s = String.fromCharCode(c);
    if (page(s) !== visible(s)) differ.push(c.toString(16));
  }
  assert.deepEqual(differ, []);
  assert.equal(page('a\x1b[2J\u202eb'), 'a\\e[2J\\u202eb');
});
