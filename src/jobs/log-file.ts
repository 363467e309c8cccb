import { close, constants, existsSync, fstatSync, lstat, mkdirSync, openSync, rename, write } from 'node:fs';
import { promisify } from 'node:util';
import { dirname } from 'node:path';
import { openForAppend, openForAppendAsync } from '../os/safe-open.ts';

/** fs.write as a promise (util.promisify would load node:util's whole ESM namespace: see src/ui/colour.ts). */
function writeAsync(fd: number, chunk: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }> {
  return new Promise((resolve, reject) => write(fd, chunk, offset, length, (e, bytesWritten) => (e ? reject(e) : resolve({ bytesWritten }))));
}

/** 100 MiB per job unless --log-max / log_max says otherwise: a week of a chatty trainer, not a full disk. */
export const DEFAULT_LOG_MAX = 100 * 1024 * 1024;

/** A fresh file after a rotation: created 0600, exclusively (PATH was just renamed away), no links. */
const FRESH = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface LogFileHooks {
  /** the file reached its cap and was rotated to PATH.1 (called for every rotation) */
  rotated?: (info: { path: string; rotations: number; capBytes: number; droppedBytes: number }) => void;
  /** writing failed (ENOSPC, EIO, ...): the log is cut here, nothing more is written */
  cut?: (info: { path: string; code: string; message: string; bytesWritten: number }) => void;
}

/**
 * Opens (creating 0600, logs may hold secrets) a log for appending: never through a symbolic link, only a
 * regular file the effective user owns (safe-open). Throws, so a caller can refuse a path up front.
 */
export function openLogFd(path: string): number {
  makeDirs(dirname(path));
  return openForAppend(path);
}

/**
 * mkdir -p, one level at a time from the nearest existing ancestor. Node's own recursive mkdir loops
 * for ever where mkdir(2) says ENOENT under an existing directory (/proc/x/y), freezing the supervisor.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) mkdirSync(d, { mode: 0o700 });
}

/**
 * A job's log file with a size cap. When the next write would pass the cap, the file is renamed to
 * PATH.1 (replacing the previous PATH.1) and a new PATH is started: the newest output is kept, and the
 * two files never hold more than 2 x cap. Writes are queued one after another, and each write() resolves
 * only when its bytes are on the file, so a caller that awaits it never buffers more than one chunk.
 * A write error (a full disk) cuts the log: later writes are dropped, and the job goes on.
 */
export class LogFile {
  readonly path: string;
  readonly capBytes: number;
  private fd: number | null = null;
  private size = 0;
  private queue: Promise<void> = Promise.resolve();
  private hooks: LogFileHooks;
  rotations = 0;
  droppedBytes = 0;
  bytesWritten = 0;
  cutReason: string | null = null;

  constructor(path: string, capBytes: number, hooks: LogFileHooks = {}) {
    this.path = path;
    this.capBytes = capBytes;
    this.hooks = hooks;
  }

  /** Opens the file now (before the job starts); a failure cuts the log rather than the job. */
  async open(): Promise<void> {
    try {
      makeDirs(dirname(this.path));
      this.fd = await openForAppendAsync(this.path);
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      this.cut(e);
    }
  }

  get isCut(): boolean {
    return this.cutReason !== null;
  }

  write(chunk: Buffer): Promise<void> {
    // A chunk larger than the cap goes in cap-sized pieces, so that PATH.1 and PATH stay one contiguous
    // tail of the output; what falls out is always the oldest.
    for (let off = 0; off < chunk.length; off += this.capBytes) {
      const piece = chunk.subarray(off, off + this.capBytes);
      this.queue = this.queue.then(() => this.writeNow(piece));
    }
    return this.queue;
  }

  async close(): Promise<void> {
    await this.queue;
    this.closeFd();
  }

  private async writeNow(chunk: Buffer): Promise<void> {
    if (this.fd === null || this.cutReason) return;
    try {
      if (this.size > 0 && this.size + chunk.length > this.capBytes) await this.rotate();
      let off = 0;
      while (off < chunk.length && this.fd !== null) off += (await writeAsync(this.fd, chunk, off, chunk.length - off)).bytesWritten;
      this.size += chunk.length;
      this.bytesWritten += chunk.length;
    } catch (e) {
      this.cut(e);
    }
  }

  private async rotate(): Promise<void> {
    this.closeFd();
    // rename is atomic and replaces PATH.1: what it held is the part of the log that is given up
    // node:fs's callback forms (node:fs/promises loads a dozen modules more into every corral start)
    const dropped = await promisify(lstat)(`${this.path}.1`).then((st) => st.size, () => 0);
    await promisify(rename)(this.path, `${this.path}.1`);
    // PATH was just renamed away: if something is there now, someone else put it there
    this.fd = openSync(this.path, FRESH, 0o600);
    this.size = 0;
    this.rotations++;
    this.droppedBytes += dropped;
    this.hooks.rotated?.({ path: this.path, rotations: this.rotations, capBytes: this.capBytes, droppedBytes: this.droppedBytes });
  }

  private closeFd(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    close(fd, () => {});
  }

  private cut(e: unknown): void {
    const err = e as NodeJS.ErrnoException;
    this.cutReason = err.code ?? 'error';
    this.closeFd();
    this.hooks.cut?.({ path: this.path, code: this.cutReason, message: err.message ?? String(e), bytesWritten: this.bytesWritten });
  }
}
