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
