import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

/**
 * libfaketime, loaded with LD_PRELOAD (FAKETIME=offset, DONT_FAKE_MONOTONIC=1 moves only the wall clock).
 * Not the `faketime` wrapper: it makes a named semaphore per pid, and a stale one left by a killed wrapper
 * fails a later wrapper with the same pid ("sem_open: File exists").
 */
export const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1', '/usr/local/lib/faketime/libfaketime.so.1'].find((p) => existsSync(p));

let shared: { FAKETIME_SHARED: string } | undefined;

/**
 * FAKETIME_SHARED naming a semaphore and a shared-memory object this test process owns, for every process
 * it starts under libfaketime. Without it each such process creates /dev/shm/faketime_shm_<its pid> and
 * removes it only on a clean exit, so one that is killed leaves it behind, and a later process that gets
 * the same pid fails at start ("ft_shm_create(), shm_open failed: File exists"): a flake that grows with
 * every run on a machine. The pair is made once (python3's ctypes calls sem_open) and removed at exit.
 */
export function faketimeShared(): { FAKETIME_SHARED: string } {
  if (shared) return shared;
  const name = `faketime_corral_test_${process.pid}`;
  execFileSync('python3', ['-c', [
    'import ctypes, os, struct, sys',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'libc.sem_open.restype = ctypes.c_void_p',
    'p = libc.sem_open(sys.argv[1].encode(), os.O_CREAT, 0o600, 1)',
    'if p in (None, ctypes.c_void_p(-1).value): sys.exit(1)',
    // the shared memory as libfaketime's own ft_shm_create leaves it: ticks and file index 0, and the
    // four start times of struct ft_shared_s unset ({0, -1}); a page, so its mmap never reaches past the end
    'fd = os.open(sys.argv[2], os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)',
    "os.write(fd, struct.pack('<QQ' + 'qq' * 4, 0, 0, 0, -1, 0, -1, 0, -1, 0, -1).ljust(4096, bytes(1)))",
  ].join('\n'), `/${name}_sem`, `/dev/shm/${name}_shm`]);
  process.once('exit', () => {
    for (const f of [`/dev/shm/sem.${name}_sem`, `/dev/shm/${name}_shm`]) rmSync(f, { force: true });
  });
  shared = { FAKETIME_SHARED: `/${name}_sem /${name}_shm` };
  return shared;
}
