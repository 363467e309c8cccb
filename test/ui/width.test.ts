import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutMiddle, displayWidth, fitLine, stripAnsi } from '../../src/ui/width.ts';

/* Display width as a terminal spends it: escapes 0, East Asian wide/fullwidth 2, combining marks 0. */
describe('display width', () => {
  it('counts escapes as nothing, CJK and fullwidth as two, combining marks and zero-width characters as nothing', () => {
    assert.equal(displayWidth('abc'), 3);
    assert.equal(displayWidth('\x1b[31mabc\x1b[0m'), 3);
    assert.equal(displayWidth('\x1b]8;;http://x\x07link\x1b]8;;\x07'), 4, 'OSC 8 hyperlinks take no room');
    assert.equal(displayWidth('数据'), 4);
    assert.equal(displayWidth('データ'), 6);
    assert.equal(displayWidth('한국어'), 6);
    assert.equal(displayWidth('ＡＢ'), 4, 'fullwidth Latin');
    assert.equal(displayWidth('e\u0301'), 1, 'e + combining acute');
    assert.equal(displayWidth('a\u200bb'), 2, 'zero-width space');
    assert.equal(displayWidth('🎉'), 2);
    assert.equal(stripAnsi('\x1b[1;31mx\x1b[0m'), 'x');
  });

  it('cuts in the middle by columns, keeping the head and the end of a path, never half a wide character', () => {
    assert.equal(cutMiddle('short', 10), 'short');
    const path = '/data/experiments/run-2026-11-30/checkpoints/epoch_0012.pt';
    const cut = cutMiddle(path, 28);
    assert.equal(displayWidth(cut), 28);
    assert.match(cut, /^\/data\/exper.*….*epoch_0012\.pt$/);
    const cjk = cutMiddle('/数据/实验/检查点/模型权重文件.pt', 15);
    assert.ok(displayWidth(cjk) <= 15, cjk);
    assert.match(cjk, /^\/数.*….*\.pt$/);
    assert.equal(cutMiddle('abcdef', 1), '…');
  });

  it('fits a coloured row to a width: escapes kept and not counted, a reset after the cut, wide characters whole', () => {
    const row = `\x1b[1m${'x'.repeat(50)}数据数据\x1b[0m`;
    assert.equal(fitLine(row, 80), row, 'a row that fits is left as it is');
    const cut = fitLine(row, 53);
    assert.ok(displayWidth(cut) <= 53, `${displayWidth(cut)}`);
    assert.match(cut, /^\x1b\[1mx{50}数…\x1b\[0m$/);
    assert.equal(displayWidth(fitLine('数据数据', 5)), 5, '数据 and the mark, not half of 数');
  });
});
