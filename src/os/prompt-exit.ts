import { flushCompileCache } from 'node:module';
import { libcLibrary } from './ffi.ts';

/**
 * Ends the process with _exit(2) once Node has nothing left to do (the 'exit' event of a drained event
 * loop), instead of Node's own teardown after it: freeing every heap object, disposing V8, the platform's
 * threads and koffi's library. That teardown frees only memory the kernel frees anyway, and took 3-8 ms
 * of each `corral run` (exit event to the parent's wait: 9.5 ms against 6.4 with _exit); `corral pool`
 * ends the same way. Everything corral writes is done by then: the ledger is closed (checkpointed) by
 * the run itself, the jobs and the sentinel are reaped, and no file operation is in flight (one would
 * keep the loop alive). Node's compile cache is written first. When stdout or stderr still holds data for a slow reader, Node's own
 * exit runs, which waits for it. So it does when Node was asked to write something at its exit (a CPU or
 * heap profile, V8 coverage), and without koffi.
 */
export function exitPromptlyWhenDone(): void {
  if (writesAtExit()) return;
  const lib = libcLibrary();
  if (!lib) return;
  const exit = lib.lib.func('void _exit(int)') as (status: number) => void;
  process.once('exit', (code) => {
    if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) return;
    flushCompileCache?.();
    exit(typeof code === 'number' ? code : 0);
  });
}

/** Whether Node writes a file in its own teardown: --cpu-prof, --heap-prof (flags or NODE_OPTIONS), NODE_V8_COVERAGE. */
function writesAtExit(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return Boolean(process.env.NODE_V8_COVERAGE) || flags.some((f) => /^--(cpu|heap)-prof/.test(f));
}
