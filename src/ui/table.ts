import { paint } from './colour.ts';
import { displayWidth } from './width.ts';

/**
 * A plain table: columns padded to the widest cell in display columns (colour escapes take none, CJK
 * characters two); the last column is not padded. The header is bold where `stream` takes colour.
 */
export function table(rows: string[][], header?: string[], stream: NodeJS.WriteStream = process.stdout): string {
  const all = header ? [header, ...rows] : rows;
  if (!all.length) return '';
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => displayWidth(r[i] ?? ''))));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(Math.max(0, widths[i]! - displayWidth(c))))).join('  ').trimEnd();
  const out = all.map(line);
  if (header) out[0] = paint(out[0]!, 'bold', stream);
  return out.join('\n') + '\n';
}
