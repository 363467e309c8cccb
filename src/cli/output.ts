/** Colour only on a terminal and never with NO_COLOR (https://no-color.org) or TERM=dumb. */
export function useColor(stream: NodeJS.WriteStream = process.stderr): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR) return true;
  return Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1, dim: 2 } as const;
export type Color = keyof typeof CODES;

export function paint(text: string, color: Color, stream: NodeJS.WriteStream = process.stdout): string {
  return useColor(stream) ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
}

/** corral's own messages go to stderr so that a job's stdout and --json output stay clean. */
export function say(line: string): void {
  process.stderr.write(`${paint('corral:', 'cyan', process.stderr)} ${line}\n`);
}

/** A plain table: columns padded to the widest cell; the last column is not padded. */
export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  if (!all.length) return '';
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ''))));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c)))).join('  ').trimEnd();
  const out = all.map(line);
  if (header) out[0] = paint(out[0]!, 'bold');
  return out.join('\n') + '\n';
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
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
