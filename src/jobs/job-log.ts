import type { JobChild } from '../supervise/spawn-job.ts';
import type { Readable } from 'node:stream';
import { LineSplitter, type LineEcho } from './line-echo.ts';
import { LogFile } from './log-file.ts';
import { isOpen, writeWithBackpressure } from './std-streams.ts';
import { monotonicMs } from '../proc/clock.ts';

export interface JobLog {
  pipe(child: JobChild): void;
  close(): Promise<void>;
  readonly file: LogFile;
}

export interface LogOptions {
  path: string;
  attempt: number;
  /** how the attempt before this one ended (describeAttemptEnd), for the separator line */
  previous?: string;
  /** true: echo as written; a LineEcho: whole lines only, each with its prefix (--line-buffer, --tag) */
  echo: boolean | LineEcho;
  capBytes: number;
  /** a ledger event: log-rotated (the cap was first reached), log-truncated (at the end: what was given up), log-cut */
  record: (kind: string, data: Record<string, unknown>) => void;
  /** one line the user must see (the log was cut) */
  notify: (line: string) => void;
}

/** After the job's leader is gone, how long the pipes may stay silent before the log is closed anyway. */
const IDLE_CLOSE_MS = 1000;
/** ...and the most it waits in all: a process that escaped teardown (EPERM) may keep writing for ever. */
const MAX_CLOSE_MS = 10_000;

/**
 * Captures a job's stdout and stderr into one capped, rotated file (appending across attempts), echoing
 * them to corral's own stdout/stderr when asked. Every chunk is written to the file, then echoed, before
 * the next one is read from the job's pipe: when the disk or the reader of corral's output is slow, the
 * pipe fills and the job blocks in write(2), as it would writing to a slow terminal. corral's memory
 * stays at one chunk per stream whatever the job writes. An echo target that closes (EPIPE, a closed
 * terminal) only ends the echo; a log file that fails (ENOSPC) is cut, and the pipes are still drained.
 */
export async function attachLog(o: LogOptions): Promise<JobLog> {
  const { attempt, echo } = o;
  const file = new LogFile(o.path, o.capBytes, {
    rotated: (i) => {
      if (i.rotations === 1) o.record('log-rotated', { file: i.path, capBytes: i.capBytes });
    },
    cut: (i) => {
      o.record('log-cut', { file: i.path, code: i.code, message: i.message, bytesWritten: i.bytesWritten });
      o.notify(`log ${i.path} cut (${i.message}); the job goes on, its output is no longer kept`);
    },
  });
  await file.open();
  // the separator says how the attempt before ended: the reader of a log wants to know why it restarted
  if (attempt > 1) await file.write(Buffer.from(`--- corral: attempt ${attempt} --- (attempt ${attempt - 1} ${o.previous ?? 'ended'})\n`));
  const pumps: Promise<void>[] = [];
  let lastActivity = monotonicMs();

  const pump = async (src: Readable, out: NodeJS.WritableStream) => {
    const lines = typeof echo === 'object' ? new LineSplitter(echo) : null;
    try {
      for await (const chunk of src as AsyncIterable<Buffer>) {
        lastActivity = monotonicMs();
        await file.write(chunk);
        const shown = lines ? lines.push(chunk) : chunk;
        if (echo && shown.length && isOpen(out)) await writeWithBackpressure(out, shown);
        lastActivity = monotonicMs();
      }
    } catch {
      /* the pipe was destroyed after teardown: nothing more will come */
    }
    const rest = lines?.flush();
    if (rest?.length && isOpen(out)) await writeWithBackpressure(out, rest);
  };

  return {
    file,
    pipe(child) {
      if (child.stdout) pumps.push(pump(child.stdout, process.stdout));
      if (child.stderr) pumps.push(pump(child.stderr, process.stderr));
    },
    async close() {
      const all = Promise.all(pumps);
      const started = monotonicMs();
      // Drain what the job wrote before it ended (a slow reader may need more than a moment), but a
      // pipe held open by a process that outlived teardown must not hold corral: idle and total bounds.
      while (true) {
        const idleLeft = lastActivity + IDLE_CLOSE_MS - monotonicMs();
        const totalLeft = started + MAX_CLOSE_MS - monotonicMs();
        if (idleLeft <= 0 || totalLeft <= 0) break;
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([all.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.min(idleLeft, totalLeft))))]);
        clearTimeout(timer);
        if (finished) break;
      }
      await file.close();
      if (file.rotations || file.droppedBytes) o.record('log-truncated', { file: file.path, capBytes: file.capBytes, rotations: file.rotations, droppedBytes: file.droppedBytes });
    },
  };
}
