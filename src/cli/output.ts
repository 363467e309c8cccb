import { paint } from '../ui/colour.ts';

// The presentation module (src/ui) holds colour and tables; commands keep importing them from here.
export { paint, useColor, type Color } from '../ui/colour.ts';
export { table } from '../ui/table.ts';

let quiet = false;

/** -q: corral's informational lines are dropped; errors and warnings (warn) still show. */
export function setQuiet(on: boolean): void {
  quiet = on;
}

export function isQuiet(): boolean {
  return quiet;
}

/** corral's own messages go to stderr so that a job's stdout and --json output stay clean. */
export function say(line: string): void {
  if (quiet) return;
  warn(line);
}

/** A line the user must see even with -q (something went wrong, something was left alive). */
export function warn(line: string): void {
  process.stderr.write(`${paint('corral:', 'cyan', process.stderr)} ${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

// C0 controls and DEL, C1 controls, and the invisible format characters that reorder or hide text
// (bidi embeddings, overrides and isolates, marks, zero-width characters, line/paragraph separators).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const NAMED: Record<string, string> = { '\x1b': '\\e', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x07': '\\a', '\b': '\\b' };

/**
 * A string a user controls (a command line, a process or run name, a path), made safe to print on
 * root's terminal: every control or invisible format character is shown as a visible escape (\e, \n,
 * \x01, \u202e), so an `exec -a $'\e]0;..\a\e[2J'` cannot retitle the window, clear the screen or hide
 * lines of a reap plan, and a bidi override cannot reorder what is shown. --json keeps the exact string.
 */
export function visible(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** True when a string has something visible() would escape (for tests and checks). */
export function hasUnsafe(text: string): boolean {
  UNSAFE.lastIndex = 0;
  return new RegExp(UNSAFE.source).test(text);
}

/** visible() on every string of plain data (objects and arrays; other instances are left as they are). */
export function visibleDeep<T>(value: T): T {
  if (typeof value === 'string') return visible(value) as T;
  if (Array.isArray(value)) return value.map(visibleDeep) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = visibleDeep(v);
    return out as T;
  }
  return value;
}

/** Every line of a text that has no colour of its own (the Markdown report) through visible(). */
export function visibleLines(text: string): string {
  return text.split('\n').map(visible).join('\n');
}
