// Run by hand (not a test): node test/web/measure.ts [seconds=60] [extra=2000] [pages=1]
// The dashboard's page load (navigation to the data shown) and corral ui's CPU use with the page open
// on a machine with EXTRA more processes (sleeps this script starts and kills), then with no page open.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { startUi, stopCorral } from './web-kit.ts';

const seconds = Number(process.argv[2] ?? 60);
const extra = Number(process.argv[3] ?? 2000);
const pages = Number(process.argv[4] ?? 1);
const t = new Tracker();
const token = t.token('measure');

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
}

function processCount(): number {
  return readFileSync('/proc/loadavg', 'utf8').split(' ')[3]!.split('/').map(Number)[1]!;
}

const holder = spawn('bash', ['-c', `for i in $(seq ${extra}); do sleep 100000 & done; wait`], { stdio: 'ignore', env: { ...process.env, CORRAL_TEST_TOKEN: token } });
t.pid(holder.pid);
const before = processCount();
await waitFor(() => t.alive().length >= extra, `${extra} sleeps`, 60_000, 500);
const { ui, url } = await startUi(tempHome(), {}, ['--listen', '127.0.0.1:0']);
t.pid(ui.child.pid);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-crash-reporter'] });
try {
  const loads: number[] = [];
  for (let i = 0; i < 3; i++) {
    const page = await browser.newPage();
    const t0 = performance.now();
    await page.goto(url);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });
    loads.push(Math.round(performance.now() - t0));
    await page.close();
  }
  const open = [];
  for (let i = 0; i < pages; i++) {
    const p = await browser.newPage();
    await p.goto(url);
    await p.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });
    open.push(p);
  }
  const pid = ui.child.pid!;
  const c0 = cpuTicks(pid);
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const ticks = cpuTicks(pid) - c0;
  const wall = (performance.now() - w0) / 1000;
  const scan = (await (await fetch(url + 'api/strays')).json()) as { processes: number; scanMs: number };
  // then with no page open (after three intervals nobody asked): the timeline's light sampling only
  for (const p of open) await p.close();
  await sleep(10_000);
  const i0 = cpuTicks(pid);
  const iw0 = performance.now();
  await sleep(seconds * 1000);
  const idleTicks = cpuTicks(pid) - i0;
  const idleWall = (performance.now() - iw0) / 1000;
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  console.log(JSON.stringify({
    processes: scan.processes, extra, pages, processesBefore: before, pageLoadMs: loads, seconds: Math.round(wall),
    cpuTicks: ticks, cpuPercent: Math.round((ticks / 100 / wall) * 1000) / 10, lastScanMs: scan.scanMs, idleCpuTicks: idleTicks, idleCpuPercent: Math.round((idleTicks / 100 / idleWall) * 1000) / 10, rssMiB: rss ? Math.round(Number(rss) / 1024) : null,
  }));
} finally {
  await browser.close();
  await stopCorral(ui);
  await t.cleanup();
}
