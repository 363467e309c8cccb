import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStat } from '../proc/stat.ts';
import type { Identity } from '../proc/identity.ts';
import './reaper.ts'; // before any spawn: it records every child Node starts

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'corral.js');

/*
 * The sentinel is a shell blocked in read(2) on a pipe that only the supervisor holds the write end of
 * (libuv opens it close-on-exec, so no job inherits it). A clean shutdown writes "clean"; any other end of
 * the supervisor (SIGKILL, a crash) closes the pipe, read returns end-of-file, and the shell execs corral's
 * teardown for the run from ledger data. Idle, it is one dash process: about a megabyte resident.
 */
const SCRIPT = 'read -r line; [ "$line" = clean ] && exit 0; exec "$0" "$1" __sentinel "$2"';

export interface Sentinel {
  identity: Identity;
  child: ChildProcess;
  /** tells the sentinel the supervisor finished its own teardown; it then exits */
  markClean(): void;
}

export function startSentinel(runId: string, logDir: string): Sentinel {
  mkdirSync(logDir, { recursive: true });
  const log = openSync(join(logDir, `${runId}.sentinel.log`), 'a');
  const child = spawn('/bin/sh', ['-c', SCRIPT, process.execPath, BIN, runId], {
    detached: true, // its own session: a Ctrl-C to the terminal's foreground group does not reach it
    stdio: ['pipe', log, log],
    env: { ...process.env, CORRAL_SENTINEL: '1' },
  });
  child.unref();
  const pid = child.pid!;
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return {
    identity: { pid, starttime: readStat(pid)?.starttime ?? -1 },
    child,
    markClean() {
      child.stdin?.end('clean\n');
    },
  };
}
