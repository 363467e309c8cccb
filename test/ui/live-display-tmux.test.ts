import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { displayWidth } from '../../src/ui/width.ts';
import { BIN, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

/*
 * The live pool display in a real terminal of 60 columns (tmux on a private socket), with item names far
 * wider than the window, CJK ones among them (two columns a character). Every frame: each row of the
 * block fits in 60 display columns (captured with -J, so a row the terminal wrapped shows as one long
 * line), the block has the same number of rows, and nothing of an earlier frame is left on the screen.
 */
const t = new Tracker();
after(async () => {
  // the pane's shell names the token too: it goes with the tmux server, killed in the test's finally
  await waitFor(() => t.alive().length === 0, 'every task and the pane to be gone', 10_000).catch(() => {});
  assert.deepEqual(await t.cleanup(), [], 'nothing was left to force-kill');
});

const LONG = [
  '/data/experiments/very/long/path/to/the/checkpoints/of/run-2026-11-30/epoch_0001.pt',
  '/数据/实验/检查点/模型权重文件_第一轮训练结果_最终版本_不要删除_谢谢.pt',
  '/data/experiments/very/long/path/to/the/checkpoints/of/run-2026-11-30/epoch_0002.pt',
  '/データ/実験/チェックポイント/とても長いファイル名のモデル重み_最終版.pt',
];

test('the live pool display at 60 columns: rows fit, the block keeps its height, no leftovers', async () => {
  const home = tempHome();
  const dir = mkdtempSync(join(tmpdir(), 'corral-tmux-ui-'));
  const sock = join(dir, 'tmux.sock');
  const token = t.token('ui60');
  const status = join(dir, 'status');
  const items = [...LONG, ...LONG, ...LONG].map((x, i) => `'${x}${i}'`).join(' ');
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', sock, ...args], { encoding: 'utf8' });
  // colour on (a terminal): escapes must not count as columns
  const cmd = `CORRAL_HOME=${home} LANG=C.UTF-8 ${process.execPath} ${BIN} pool --gpus 0,1 --per-gpu 2 --preflight ignore -- sh -c 'sleep 0.7; : ${token}' ::: ${items}; echo $? > ${status}; sleep 60`;
  tmux('-u', 'new-session', '-d', '-x', '60', '-y', '30', cmd);
  try {
    const frames: string[] = [];
    const done = () => {
      try {
        return readFileSync(status, 'utf8').trim();
      } catch {
        return null;
      }
    };
    while (!done()) {
      frames.push(tmux('capture-pane', '-p', '-J'));
      await new Promise((r) => setTimeout(r, 150));
      if (frames.length > 400) break;
    }
    assert.equal(done(), '0', 'the pool succeeded');
    const live = frames.filter((f) => /\bdone \d+\/12\b/.test(f));
    assert.ok(live.length >= 4, `several frames of the live block were captured (${live.length})`);
    for (const f of live) {
      const lines = f.split('\n');
      const totals = lines.filter((l) => /\bdone \d+\/12\b/.test(l));
      const gpuRows = lines.filter((l) => /^GPU \d/.test(l));
      assert.equal(totals.length, 1, `one totals row, no leftover of an earlier frame:\n${f}`);
      assert.equal(gpuRows.length, 2, `one row per GPU, no leftover of an earlier frame:\n${f}`);
      for (const row of [...gpuRows, ...totals]) assert.ok(displayWidth(row) <= 60, `a row fits in 60 columns (${displayWidth(row)}): ${row}`);
      // the block is the last thing on the screen: the two GPU rows, then the totals, then nothing
      const at = lines.findIndex((l) => /^GPU 0/.test(l));
      assert.match(lines[at + 1] ?? '', /^GPU 1/, f);
      assert.match(lines[at + 2] ?? '', /\bdone \d+\/12\b/, f);
      assert.equal(lines.slice(at + 3).join('').trim(), '', `nothing under the block:\n${f}`);
      // long names are cut in the middle: the head and the end of the path both show
      for (const row of gpuRows.filter((r) => r.includes('('))) assert.match(row, /\(\/[^)]*…[^)]*\)/, `cut in the middle: ${row}`);
    }
    const final = tmux('capture-pane', '-p', '-J');
    assert.doesNotMatch(final, /^GPU \d/m, `the block is gone at the end, only the summary stays:\n${final}`);
    assert.match(final, /run \S+ succeeded/);
    if (process.env.CORRAL_SHOW_FRAMES) console.log([live[Math.floor(live.length / 2)], final].join('\n----\n'));
  } finally {
    try {
      execFileSync('tmux', ['-S', sock, 'kill-server'], { stdio: 'ignore' });
    } catch {
      /* already gone: only our own server, by its own socket */
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
});
