/**
 * Timers for any duration corral accepts, on the monotonic clock.
 *
 * Node's setTimeout holds its delay in a signed 32-bit int: anything from 2^31 ms (24.8 days) on is
 * replaced by 1 ms, so a `--timeout 25d` fired at once and a `--restart-delay 30d` became a hot loop.
 * Here a long wait is a chain of shorter timers, each re-armed with what is left until a deadline taken
 * from monotonicMs(), so a step of the wall clock (NTP, `date -s`) neither shortens nor lengthens it.
 */

import { monotonicMs } from '../proc/clock.ts';

/** The longest delay Node's setTimeout honours (2^31 - 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimerOptions {
  /** ends the wait early; the timer is cleared and never fires */
  signal?: AbortSignal;
  /** longest single timer in the chain (tests shrink it); at most MAX_TIMER_MS */
  chunkMs?: number;
  /** the monotonic clock in ms (tests inject a fake one) */
  now?: () => number;
  /** arms one timer of the chain (tests inject a fake one); returns a cancel function */
  schedule?: (fn: () => void, ms: number) => () => void;
  /** false: the chain does not keep the process alive */
  ref?: boolean;
}

export interface LongTimer {
  cancel(): void;
}

/** Calls fn once `ms` have passed on the monotonic clock, through as many chained timers as that takes. */
export function setLongTimeout(fn: () => void, ms: number, opts: LongTimerOptions = {}): LongTimer {
  const now = opts.now ?? (() => monotonicMs());
  const chunk = Math.max(1, Math.min(opts.chunkMs ?? MAX_TIMER_MS, MAX_TIMER_MS));
  const ref = opts.ref ?? true;
  const schedule =
    opts.schedule ??
    ((f: () => void, d: number) => {
      const t = setTimeout(f, d);
      if (!ref) t.unref();
      return () => clearTimeout(t);
    });
  // An infinite or NaN delay never fires; it still ends on cancel or abort.
  const deadline = Number.isFinite(ms) ? now() + Math.max(0, ms) : Infinity;
  let cancelArmed: (() => void) | null = null;
  let done = false;
  const onAbort = () => timer.cancel();
  const arm = () => {
    if (done) return;
    const left = deadline - now();
    if (left <= 0) {
      done = true;
      cancelArmed = null;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
      return;
    }
    // A timer may come back a little early (libuv's clock is cached per loop turn): re-arm for the rest.
    cancelArmed = schedule(arm, Math.max(1, Math.min(Math.ceil(left), chunk)));
  };
  const timer: LongTimer = {
    cancel() {
      if (done) return;
      done = true;
      cancelArmed?.();
      cancelArmed = null;
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
  if (opts.signal?.aborted) {
    done = true;
    return timer;
  }
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // The first timer is always armed, so fn never runs inside this call (as with setTimeout(fn, 0)).
  cancelArmed = schedule(arm, Math.min(Math.max(0, Math.ceil(deadline - now())), chunk));
  return timer;
}

/** Waits `ms` on the monotonic clock; resolves true when the time passed, false when the signal ended it. */
export function sleepLong(ms: number, opts: LongTimerOptions = {}): Promise<boolean> {
  return new Promise((resolve) => {
    if (opts.signal?.aborted) return resolve(false);
    const onAbort = () => resolve(false);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    setLongTimeout(() => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms, opts);
  });
}
