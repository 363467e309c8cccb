import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';
import { makeWorld, startRun, startUi, stopCorral, waitForRun, type WebWorld } from './web-kit.ts';

/*
 * The dashboard in Debian's chromium, headless, driven by playwright-core (nothing downloads a browser),
 * against a real corral ui with a real run, a real orphan named like an attack, and the stand-in NVML GPU.
 * Screenshots go to a temp dir; CORRAL_DASHBOARD_SCREENSHOT=1 also writes docs/img/dashboard.png.
 */
const CHROMIUM = '/usr/bin/chromium';
const t = new Tracker();
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  const left = await t.cleanup();
  assert.ok(left.every((i) => i.pid === world?.orphanPid), `only the test's orphan was left (killed now): ${JSON.stringify(left)}`);
});
let world: WebWorld | undefined;

test('a person sees the stray\'s row, the GPU bar, points on the timeline, and a new run appear without reloading', async (ctx) => {
  if (!existsSync(CHROMIUM)) return skipOrFail(ctx, `no ${CHROMIUM} (apt-get install chromium)`);
  world = await makeWorld(t);
  const w = world;
  cleanups.push(() => stopCorral(w.run));
  const { ui, url } = await startUi(w.home, w.env);
  t.pid(ui.child.pid);
  cleanups.push(() => stopCorral(ui));
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--disable-crash-reporter', '--disable-breakpad', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])] });
  cleanups.push(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const shots = mkdtempSync(join(tmpdir(), 'corral-dashboard-shots-'));

  const t0 = performance.now();
  await page.goto(url);
  await page.waitForSelector(`#strays tbody tr[data-pid="${w.orphanPid}"]`);
  ctx.diagnostic(`page load, navigation to the stray's row shown: ${Math.round(performance.now() - t0)} ms`);

  // the stray's row: its reason, its hostile name shown as text (no element made, no script run), the reap line
  const row = page.locator(`#strays tbody tr[data-pid="${w.orphanPid}"]`);
  assert.match(await row.innerText(), /orphan,gpu-holder/);
  assert.match(await row.locator('td.cmd').innerText(), /^<img src=x onerror="window.__pwned=1">/);
  assert.match(await row.innerText(), new RegExp(`corral reap ${w.orphanPid}`));
  assert.equal(await page.locator('#strays img').count(), 0);
  assert.equal(await page.evaluate('window.__pwned'), undefined);
  assert.doesNotMatch(await row.locator('td.cmd').innerText(), /\u202e|\x1b/, 'bidi override and escape shown as visible escapes');

  // the GPU bar: a segment for the orphan, marked a stray, and one for the run's job on the other device
  if (w.fakeNvml) {
    const seg = page.locator(`.gpu .segment.stray[data-pid="${w.orphanPid}"]`);
    await seg.waitFor();
    assert.ok(((await seg.boundingBox())?.width ?? 0) > 20, 'the 5.5 GiB of 80 GiB is a visible part of the bar');
    // utilisation where the probe gives it (the stand-in NVML: the first device 87% busy)
    assert.match(await page.locator('.gpu .gpu-mem').first().innerText(), /87% busy/);
  }
  assert.ok(await page.locator(`.gpu tr[data-pid="${w.jobPid}"]`).count() >= 1, 'the run\'s job among the GPU\'s processes');

  // the timeline: points drawn by uPlot
  await page.waitForFunction("Number(document.getElementById('timeline-devices').dataset.points) >= 2 && !!document.querySelector('#timeline-users canvas')");
  assert.ok(await page.locator('#timeline-devices canvas').count() >= 1);
  await page.screenshot({ path: join(shots, 'dashboard.png'), fullPage: true });

  // a run started now appears while the page stays open
  const before = await page.evaluate("performance.getEntriesByType('navigation').length");
  const second = startRun(w.home, w.env, w.dev, 'second-run');
  t.pid(second.child.pid);
  cleanups.push(() => stopCorral(second));
  const { runId } = await waitForRun(w.home, (id) => id !== w.runId);
  await page.waitForSelector(`#live-runs .run[data-run-id="${runId}"]`, { timeout: 15_000 });
  assert.equal(await page.evaluate("performance.getEntriesByType('navigation').length"), before, 'no reload');
  await page.locator(`#live-runs .run[data-run-id="${runId}"] button`).click();
  await page.waitForSelector('#run-logs pre');
  assert.match(await page.locator('#run-logs pre').innerText(), /second-run/);
  await page.screenshot({ path: join(shots, 'dashboard-new-run.png'), fullPage: true });
  if (process.env.CORRAL_DASHBOARD_SCREENSHOT) {
    mkdirSync(join(ROOT, 'docs', 'img'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'docs', 'img', 'dashboard.png'), fullPage: true });
  }
  ctx.diagnostic(`screenshots in ${shots}`);
  assert.deepEqual(errors, [], 'no script errors and no CSP violations in the page');
});
