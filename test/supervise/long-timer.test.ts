import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TIMER_MS, setLongTimeout, sleepLong } from '../../src/supervise/long-timer.ts';

const DAY = 86_400_000;

/** A fake monotonic clock and scheduler: time moves only when the test runs the next armed timer. */
function fakeClock() {
  let now = 1_000;
  const armed: { at: number; ms: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    now: () => now,
    schedule: (fn: () => void, ms: number) => {
      const t = { at: now + ms, ms, fn, cancelled: false };
      armed.push(t);
      return () => (t.cancelled = true);
    },
    /** runs the next live timer, moving the clock to its time (plus `late` ms, as a busy loop would) */
    step(late = 0): boolean {
      const t = armed.find((a) => !a.cancelled);
      if (!t) return false;
      armed.splice(armed.indexOf(t), 1);
      now = Math.max(now, t.at + late);
      t.fn();
      return true;
    },
    armed,
    delays: () => armed.map((a) => a.ms),
    set: (ms: number) => (now = ms),
  };
}

test("Node's own setTimeout fires a 25-day delay at once: the reason long timers are chained", async () => {
  const started = performance.now();
  await new Promise<void>((r) => {
    const t = setTimeout(r, 25 * DAY);
    // the overflow warning is expected; the timer must not hold the test for 25 days if Node ever changes
    setTimeout(() => (clearTimeout(t), r()), 2000).unref();
  });
  assert.ok(performance.now() - started < 1500, 'setTimeout(25d) came back at once (TimeoutOverflowWarning)');
});

test('a 25-day timer is a chain of timers Node honours, and fires only at its deadline', () => {
  const c = fakeClock();
  let fired = 0;
  const seen: number[] = [];
  setLongTimeout(() => fired++, 25 * DAY, { now: c.now, schedule: (fn, ms) => (seen.push(ms), c.schedule(fn, ms)) });
  const start = c.now();
  assert.equal(fired, 0, 'never inside the call');
  while (c.step()) if (!fired) assert.ok(c.now() - start < 25 * DAY, 'not before the deadline');
  assert.equal(fired, 1);
  assert.equal(c.now() - start, 25 * DAY);
  assert.ok(seen.length >= 2, `one timer of ${seen[0]}ms would have overflowed`);
  assert.ok(seen.every((ms) => ms >= 1 && ms <= MAX_TIMER_MS), `every armed delay within Node's range: ${seen.join(', ')}`);
});

test('a small chunk size re-arms many times; a timer that comes back early re-arms for the rest', () => {
  const c = fakeClock();
  let firedAt = -1;
  const start = c.now();
  setLongTimeout(() => (firedAt = c.now()), 1000, { now: c.now, schedule: c.schedule, chunkMs: 100 });
  assert.deepEqual(c.delays(), [100]);
  let steps = 0;
  while (c.step()) steps++;
  assert.equal(steps, 10);
  assert.equal(firedAt - start, 1000);
  // early wake-ups (libuv's cached loop time): the chain waits out what is left, never fires early
  const d = fakeClock();
  let fired = false;
  setLongTimeout(() => (fired = true), 250, { now: d.now, schedule: (fn, ms) => d.schedule(fn, Math.max(1, ms - 5)) });
  while (!fired && d.step()) if (!fired) assert.ok(d.now() < 1_000 + 250);
  assert.ok(fired && d.now() >= 1_000 + 250);
});

test('cancel and abort stop the chain; an infinite delay never fires but still cancels', () => {
  const c = fakeClock();
  let fired = 0;
  const t = setLongTimeout(() => fired++, 40 * DAY, { now: c.now, schedule: c.schedule });
  c.step();
  t.cancel();
  while (c.step());
  assert.equal(fired, 0);
  const ac = new AbortController();
  setLongTimeout(() => fired++, 40 * DAY, { now: c.now, schedule: c.schedule, signal: ac.signal });
  ac.abort();
  while (c.step());
  assert.equal(fired, 0);
  const inf = setLongTimeout(() => fired++, Infinity, { now: c.now, schedule: c.schedule });
  for (let i = 0; i < 5; i++) c.step();
  assert.equal(fired, 0);
  assert.ok(c.armed.some((a) => !a.cancelled), 'still armed');
  inf.cancel();
  assert.equal(c.step(), false, 'nothing left armed after cancel');
});

test('sleepLong on the real clock: waits the whole time through several chunks; abort ends it at once', async () => {
  const started = performance.now();
  assert.equal(await sleepLong(200, { chunkMs: 30 }), true);
  assert.ok(performance.now() - started >= 199, `waited ${performance.now() - started}ms`);
  const ac = new AbortController();
  const t0 = performance.now();
  setTimeout(() => ac.abort(), 50);
  assert.equal(await sleepLong(30 * DAY, { signal: ac.signal }), false);
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(await sleepLong(10, { signal: AbortSignal.abort() }), false, 'already aborted');
});
