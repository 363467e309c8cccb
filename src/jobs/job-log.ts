import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface JobLog {
  pipe(child: ChildProcess): void;
  close(): Promise<void>;
}

/** Captures a job's stdout and stderr into one file (appending across attempts), echoing them when asked. */
export function attachLog(path: string, attempt: number, echo: boolean): JobLog {
  mkdirSync(dirname(path), { recursive: true });
  const file = createWriteStream(path, { flags: 'a' });
  if (attempt > 1) file.write(`--- corral: attempt ${attempt} ---\n`);
  let open = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  return {
    pipe(child) {
      for (const [stream, out] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
        if (!stream) continue;
        open++;
        stream.on('data', (chunk: Buffer) => {
          file.write(chunk);
          if (echo) out.write(chunk);
        });
        // A daemon that kept the pipe can hold it open after the leader exits; teardown ends it.
        stream.on('close', () => {
          if (--open === 0) done();
        });
      }
      if (open === 0) done();
    },
    async close() {
      // A process that escaped teardown (EPERM) may still hold the pipe: do not wait for it forever.
      await Promise.race([finished, new Promise((r) => setTimeout(r, 1000).unref())]);
      await new Promise<void>((r) => file.end(r));
    },
  };
}
