import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCorral } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';
import { RENAMED, makeStrays, type StrayKit } from '../strays/stray-kit.ts';

const t = new Tracker();
let kit: StrayKit;
before(async () => {
  kit = await makeStrays(t);
});
after(async () => {
  await t.cleanup(); // report only reads: all of the kit is still there to kill
  assert.deepEqual(t.alive(), []);
  kit?.dispose();
});

test('report --out writes the English analysis of every stray the kit made', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'corral-report-')), 'strays.md');
  const res = await runCorral(['report', '--out', out], { env: kit.env });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, new RegExp(`written to ${out}`));
  const md = readFileSync(out, 'utf8');
  for (const pid of [...kit.strayPids()]) assert.match(md, new RegExp(`^## \\d+\\. PID ${pid}: `, 'm'), `a section for ${pid}`);
  assert.ok(!md.includes(`PID ${kit.bystander.pid}:`));
  for (const part of [
    '## Summary', '### Facts', '### Parent', '### Timeline', '### Likely causes', '### Verify', '### Action', '## Reap everything in this report',
    `argv[0] is \`${RENAMED}\``, `lost both its supervisor and its sentinel`, 'It left its job\'s process group and session',
    'a SIGTERM stays pending until SIGCONT', `corral reap ${kit.gpuOrphan.pid} --dry-run`, `corral reap --run ${kit.runId} --yes`,
    `ls -l /proc/${kit.gpuOrphan.pid}/fd`, `job main attempt 1 started`,
  ]) assert.ok(md.includes(part), `missing: ${part}`);
});

test('report --lang zh renders the same report in Simplified Chinese', async () => {
  const res = await runCorral(['report', '--lang', 'zh', '--run', kit.runId], { env: kit.env });
  assert.equal(res.code, 0, res.stderr);
  const md = res.stdout;
  for (const pid of kit.runPids) assert.match(md, new RegExp(`^## \\d+\\. 进程 ${pid}：`, 'm'));
  for (const part of ['# corral 残留进程分析报告', '## 概览', '### 基本信息', '### 父进程', '### 时间线', '### 可能原因', '### 验证命令', '### 处理方法',
    '的监督进程和哨兵进程都已丢失', '仍标记为运行中', '作业 main 第 1 次尝试启动']) {
    assert.ok(md.includes(part), `missing: ${part}`);
  }
  assert.ok(!/### (Facts|Timeline|Likely causes)/.test(md));
});

test('an unknown language is a usage error and nothing is written', async () => {
  const res = await runCorral(['report', '--lang', 'fr'], { env: kit.env });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /unknown report language 'fr'/);
  assert.equal(res.stdout, '');
});
