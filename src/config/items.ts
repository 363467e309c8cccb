import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from './errors.ts';
import type { PoolItem } from './pool-spec.ts';
import { monotonicMs } from '../proc/clock.ts';

/**
 * Pool items from three sources: an inline list (YAML or after `:::`), a text file (one item per line),
 * or a JSONL file (one JSON value per line; an object's entries become `{field}` placeholders).
 * Errors are UsageErrors in the "expected ..., found ..." form; the caller says which key or flag.
 */
export type ItemsFormat = 'text' | 'jsonl';

export type ItemSource = string | number | boolean | Record<string, unknown>;

/** `.jsonl` and `.ndjson` files are JSON lines; anything else is one item per line. */
export function detectItemsFormat(path: string): ItemsFormat {
  return /\.(jsonl|ndjson)$/i.test(path) ? 'jsonl' : 'text';
}

/** A field's text: strings as they are, null as empty, nested values as compact JSON. */
export function formatFieldValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function createItem(index: number, source: ItemSource): PoolItem {
  if (typeof source !== 'object') return { index, value: String(source), fields: {} };
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) fields[k] = formatFieldValue(v);
  return { index, value: JSON.stringify(source), fields };
}

/**
 * Bounds on items, the same for every source. An item is at most 1 MiB (a path, a prompt, a JSON record;
 * more is a file to pass by name), a pool at most 100,000 items (each becomes a ledger row per stage and a
 * task to schedule; split bigger work into several pools), an items file at most 64 MiB.
 */
export const MAX_ITEM_BYTES = 1 << 20;
export const MAX_ITEMS = 100_000;
export const MAX_ITEMS_FILE_BYTES = 64 << 20;
/** how long a FIFO (or a pipe on stdin) may take to deliver its items and close: 30 s (tests shorten it) */
export const FIFO_DEADLINE_MS = Number(process.env.CORRAL_ITEMS_FIFO_MS) || 30_000;

/** A NUL byte cannot reach a program (argv, environment and paths end at NUL): refused, not cut short. */
export function refuseNul(what: string, value: string): void {
  const at = value.indexOf('\0');
  if (at >= 0) throw new UsageError(`expected ${what} without NUL bytes, found a NUL byte at character ${at + 1}`, 'a NUL cannot be passed to a program; remove it or pass the data in a file');
}

export function buildItems(sources: ItemSource[]): PoolItem[] {
  if (sources.length > MAX_ITEMS) throw new UsageError(`expected at most ${MAX_ITEMS} items, found ${sources.length}`, 'split the work into several pools');
  const items = sources.map((s, i) => createItem(i, s));
  for (const it of items) {
    if (Buffer.byteLength(it.value) > MAX_ITEM_BYTES) throw new UsageError(`expected items of at most 1 MiB, found item ${it.index + 1} of ${Buffer.byteLength(it.value)} bytes`, 'pass big data in a file and the file name as the item');
    refuseNul(`item ${it.index + 1}`, it.value);
    for (const [k, v] of Object.entries(it.fields)) refuseNul(`item ${it.index + 1}'s field '${k}'`, v);
  }
  return items;
}

/** One item per non-blank line, trimmed (a CRLF file reads the same as an LF one). */
export function parseTextItems(text: string): PoolItem[] {
  return buildItems(text.split('\n').map((l) => l.trim()).filter((l) => l !== ''));
}

/** Item count and line length are checked per line before any line is parsed or kept. */
function checkLines(lines: string[], file: string): void {
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.length > MAX_ITEM_BYTES) throw new UsageError(`expected lines of at most 1 MiB, found a longer line at ${file}:${i + 1}`, 'pass big data in a file and the file name as the item');
    if (lines[i]!.trim() !== '' && ++count > MAX_ITEMS) throw new UsageError(`expected at most ${MAX_ITEMS} items, found more in ${file}`, 'split the work into several pools');
  }
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** One JSON object, string, number or boolean per non-blank line. `file` only labels the errors. */
export function parseJsonlItems(text: string, file: string): PoolItem[] {
  const sources: ItemSource[] = [];
  const lines = text.split('\n');
  checkLines(lines, file);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      const why = (err as Error).message;
      throw new UsageError(`expected one JSON value per line, found invalid JSON at ${file}:${i + 1}: ${why}`);
    }
    if (value === null || Array.isArray(value)) {
      throw new UsageError(`expected a JSON object, string or number per line, found ${describeJson(value)} at ${file}:${i + 1}`);
    }
    sources.push(value as ItemSource);
  }
  return buildItems(sources);
}

function describeReadError(err: NodeJS.ErrnoException, path: string): string {
  if (err.code === 'ENOENT') return `no file at ${path}`;
  if (err.code === 'EISDIR') return `a directory at ${path}`;
  if (err.code === 'EACCES') return `a file it may not read at ${path} (permission denied)`;
  return `${path} unreadable (${err.code ?? err.message})`;
}

/** Reads items from `path` (already absolute or relative to the process's cwd); `-` is stdin. */
export function readItemsFile(path: string, format: ItemsFormat = detectItemsFormat(path), deadlineMs = FIFO_DEADLINE_MS): PoolItem[] {
  const text = readBoundedText(path === '-' ? '/dev/stdin' : path, path === '-' ? 'stdin' : path, deadlineMs);
  if (format === 'text') checkLines(text.split('\n'), path);
  return format === 'jsonl' ? parseJsonlItems(text, path) : parseTextItems(text);
}

/**
 * A regular file, or a FIFO/pipe read as a stream until its writer closes it, within `deadlineMs`; at
 * most MAX_ITEMS_FILE_BYTES either way. Devices (/dev/zero, a terminal), sockets and directories are
 * refused: they never end, or never end on their own.
 */
export function readBoundedText(path: string, label: string, deadlineMs: number): string {
  let fd: number;
  try {
    // non-blocking: opening a FIFO with no writer must not hang here
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new UsageError(`expected a readable items file, found ${describeReadError(err as NodeJS.ErrnoException, label)}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UsageError(`expected a readable items file, found a directory at ${label}`);
    const stream = st.isFIFO();
    if (!st.isFile() && !stream) {
      const kind = st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'a special file';
      throw new UsageError(`expected a regular file or a FIFO of items, found ${kind} at ${label}`, 'write the items to a file first; a device or a terminal never ends');
    }
    if (!stream && st.size > MAX_ITEMS_FILE_BYTES) throw new UsageError(`expected an items file of at most 64 MiB, found ${st.size} bytes in ${label}`, 'split the work into several pools');
    return readStream(fd, label, stream, deadlineMs);
  } finally {
    closeSync(fd);
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

function readStream(fd: number, label: string, stream: boolean, deadlineMs: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  let sawData = false;
  const until = monotonicMs() + deadlineMs;
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw new UsageError(`expected a readable items file, found ${describeReadError(err as NodeJS.ErrnoException, label)}`);
      n = -1;
    }
    // a FIFO reads 0 both before its writer opens it and after it closes: only data tells them apart
    if (n === 0 && (!stream || sawData)) break;
    if (n > 0) {
      sawData = true;
      total += n;
      if (total > MAX_ITEMS_FILE_BYTES) throw new UsageError(`expected at most 64 MiB of items, found more in ${label}`, 'split the work into several pools');
      chunks.push(Buffer.from(buf.subarray(0, n)));
      continue;
    }
    if (monotonicMs() > until) {
      throw new UsageError(`expected the writer of ${label} to send the items and close it within ${Math.round(deadlineMs / 1000)}s, found ${sawData ? 'it still open' : 'no items'}`, 'write the items to a regular file, or make the writer close the FIFO');
    }
    Atomics.wait(PAUSE, 0, 0, 20);
  }
  try {
    // a byte that is not UTF-8 would reach the task as U+FFFD: refuse it rather than run on another name
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new UsageError(`expected UTF-8 text in ${label}, found bytes that are not UTF-8`, 'convert the file (iconv -t UTF-8), or list the items some other way');
  }
}
