/**
 * corral's own stdout and stderr may be a pipe whose reader went away (`corral ... | head -1`), or a
 * terminal that was closed (EIO after SIGHUP). Node reports such a write failure as an 'error' event, and
 * an 'error' event nobody listens to kills the process: corral would die in the middle of supervising and
 * the sentinel would record the run as lost. A listener turns it into "this stream is closed": corral
 * stops writing there and goes on; the job's fate and exit status stay the job's.
 */
const closed = new WeakSet<NodeJS.WritableStream>();
const guarded = new WeakSet<NodeJS.WritableStream>();

/** Marks a stream closed on its first error instead of crashing; idempotent. */
export function guardStream(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', () => closed.add(stream));
  stream.on('close', () => closed.add(stream));
}

/** Guards process.stdout and process.stderr; the CLI's error boundary calls it first. */
export function guardStdStreams(): void {
  guardStream(process.stdout);
  guardStream(process.stderr);
}

/** False once a write to the stream failed (EPIPE, EIO) or it was destroyed. */
export function isOpen(stream: NodeJS.WritableStream): boolean {
  const s = stream as NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean };
  return !closed.has(stream) && !s.destroyed && !s.writableEnded;
}

/**
 * Writes a chunk and waits while the stream's buffer is full, so that a slow reader slows the writer
 * down instead of growing corral's memory. Resolves false when the stream is (or becomes) closed.
 */
export async function writeWithBackpressure(stream: NodeJS.WritableStream, chunk: Buffer | string): Promise<boolean> {
  guardStream(stream);
  if (!isOpen(stream)) return false;
  if (stream.write(chunk)) return isOpen(stream);
  await new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
  return isOpen(stream);
}
