import { existsSync } from 'node:fs';

/**
 * libfaketime, loaded with LD_PRELOAD (FAKETIME=offset, DONT_FAKE_MONOTONIC=1 moves only the wall clock).
 * Not the `faketime` wrapper: it makes a named semaphore per pid, and a stale one left by a killed wrapper
 * fails a later wrapper with the same pid ("sem_open: File exists").
 */
export const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1', '/usr/local/lib/faketime/libfaketime.so.1'].find((p) => existsSync(p));
