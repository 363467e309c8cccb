/**
 * Display width: what a terminal really spends on a string, so a row can be cut to fit the window.
 * String length is wrong three ways: escape sequences take no columns, East Asian wide and fullwidth
 * characters take two, combining marks and zero-width characters take none. A row cut by length
 * wraps, and a redraw that moves the cursor up by its row count then leaves the old frame behind.
 */

// CSI (colours, cursor moves) and OSC (titles, links: ended by BEL or ST) sequences
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ESCAPES, '');
}

// East Asian Width W and F (Unicode 15, the blocks that matter in practice), and the emoji blocks
// terminals draw two columns wide.
const WIDE: [number, number][] = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0], [0x23f3, 0x23f3],
  [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f], [0x2693, 0x2693], [0x26a1, 0x26a1],
  [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5], [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea],
  [0x26f2, 0x26f3], [0x26f5, 0x26f5], [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b],
  [0x2728, 0x2728], [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55],
  [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xa960, 0xa97f],
  [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4], [0x17000, 0x18cff], [0x1b000, 0x1b2ff], [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e], [0x1f191, 0x1f19a], [0x1f200, 0x1f2ff], [0x1f300, 0x1f320], [0x1f32d, 0x1f335],
  [0x1f337, 0x1f37c], [0x1f37e, 0x1f393], [0x1f3a0, 0x1f3ca], [0x1f3cf, 0x1f3d3], [0x1f3e0, 0x1f3f0],
  [0x1f3f4, 0x1f3f4], [0x1f3f8, 0x1f43e], [0x1f440, 0x1f440], [0x1f442, 0x1f4fc], [0x1f4ff, 0x1f53d],
  [0x1f54b, 0x1f54e], [0x1f550, 0x1f567], [0x1f57a, 0x1f57a], [0x1f595, 0x1f596], [0x1f5a4, 0x1f5a4],
  [0x1f5fb, 0x1f64f], [0x1f680, 0x1f6c5], [0x1f6cc, 0x1f6cc], [0x1f6d0, 0x1f6d2], [0x1f6d5, 0x1f6d7],
  [0x1f6eb, 0x1f6ec], [0x1f6f4, 0x1f6fc], [0x1f7e0, 0x1f7eb], [0x1f90c, 0x1f93a], [0x1f93c, 0x1f945],
  [0x1f947, 0x1f9ff], [0x1fa70, 0x1faff], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

function isWide(cp: number): boolean {
  if (cp < 0x1100) return false;
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

// combining marks, zero-width and format characters, variation selectors, controls: no column
const ZERO = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]$/u;

/** Columns one character (a code point) takes: 0, 1 or 2. */
export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (cp >= 0x20 && cp < 0x7f) return 1;
  if (ZERO.test(ch) || (cp >= 0x1160 && cp <= 0x11ff)) return 0; // Hangul jungseong/jongseong join the syllable
  return isWide(cp) ? 2 : 1;
}

/** Columns a string takes on a terminal, escape sequences left out. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of stripAnsi(text)) w += charWidth(ch);
  return w;
}

/** The leading part of plain text that fits in `cols` columns (never half a wide character). */
function takeStart(chars: string[], cols: number): string {
  let w = 0;
  let out = '';
  for (const ch of chars) {
    const cw = charWidth(ch);
    if (w + cw > cols) break;
    w += cw;
    out += ch;
  }
  return out;
}

/**
 * Plain text cut to `cols` columns in the middle, where paths of the same run differ least:
 * `/data/ckpts/…/epoch_12.pt` keeps both the root and the file name.
 */
export function cutMiddle(text: string, cols: number): string {
  if (displayWidth(text) <= cols) return text;
  if (cols <= 1) return cols === 1 ? '…' : '';
  const chars = [...text];
  const room = cols - 1;
  const head = takeStart(chars, Math.ceil(room / 2));
  const tail = [...takeStart([...chars].reverse(), room - displayWidth(head))].reverse().join('');
  return `${head}…${tail}`;
}

/**
 * A row (it may hold colour escapes) cut at the end to `cols` columns; escapes are kept (they take no
 * room), and a cut row ends with a reset so the colour does not bleed into the next one.
 */
export function fitLine(row: string, cols: number): string {
  if (displayWidth(row) <= cols) return row;
  let w = 0;
  let out = '';
  let i = 0;
  const re = new RegExp(ESCAPES.source, 'y');
  while (i < row.length) {
    re.lastIndex = i;
    const m = re.exec(row);
    if (m) {
      out += m[0];
      i += m[0].length;
      continue;
    }
    const ch = String.fromCodePoint(row.codePointAt(i)!);
    const cw = charWidth(ch);
    if (w + cw > cols - 1) break;
    w += cw;
    out += ch;
    i += ch.length;
  }
  return `${out}…${row.includes('\x1b[') ? '\x1b[0m' : ''}`;
}
