import { readFileSync } from 'node:fs';
import { UsageError } from './errors.ts';
import type { PoolItem } from './pool-spec.ts';

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

export function buildItems(sources: ItemSource[]): PoolItem[] {
  return sources.map((s, i) => createItem(i, s));
}

/**
 * The first item whose value repeats an earlier one, as "expected ..., found ..." text, or null. Resume
 * and the ledger tell items apart by value, so a repeated item would be skipped as already done.
 */
export function findDuplicateItem(items: PoolItem[]): { item: PoolItem; message: string } | null {
  const seen = new Map<string, PoolItem>();
  for (const item of items) {
    const first = seen.get(item.value);
    if (first) return { item, message: `expected each item once, found '${item.value}' as items ${first.index + 1} and ${item.index + 1}` };
    seen.set(item.value, item);
  }
  return null;
}

/** One item per non-blank line, trimmed (a CRLF file reads the same as an LF one). */
export function parseTextItems(text: string): PoolItem[] {
  return buildItems(text.split('\n').map((l) => l.trim()).filter((l) => l !== ''));
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

/** Reads items from `path` (already absolute or relative to the process's cwd). */
export function readItemsFile(path: string, format: ItemsFormat = detectItemsFormat(path)): PoolItem[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`expected a readable items file, found ${describeReadError(err as NodeJS.ErrnoException, path)}`);
  }
  return format === 'jsonl' ? parseJsonlItems(text, path) : parseTextItems(text);
}
