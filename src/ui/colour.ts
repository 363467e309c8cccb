import { Stream } from 'node:stream';
// node:util through getBuiltinModule, not an ESM import: the ESM namespace of node:util evaluates every
// lazy export, loading a dozen more builtins (worker_threads, parse_args...) into every corral command.
const { styleText } = process.getBuiltinModule('node:util') as typeof import('node:util');

/**
 * Colour through util.styleText with its stream check (validateStream): colour only when the stream is
 * a terminal that has colours, never with NO_COLOR or TERM=dumb; FORCE_COLOR=1/2/3 forces it onto a pipe
 * and FORCE_COLOR=0 turns it off (Node's own rules, the same as its own output). The check is against
 * the stream the text goes to: stderr for corral's messages, stdout for tables.
 */
export type Color = 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'gray' | 'bold' | 'dim';

export function paint(text: string, color: Color, stream: NodeJS.WriteStream = process.stdout): string {
  if (stream instanceof Stream) return styleText(color, text, { stream, validateStream: true });
  // a stand-in for a stream (a test's recorder): the same rules, from its isTTY
  return colourWanted(stream) ? styleText(color, text, { validateStream: false }) : text;
}

function colourWanted(stream: { isTTY?: boolean }): boolean {
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (process.env.NO_COLOR || process.env.TERM === 'dumb') return false;
  return Boolean(stream.isTTY);
}

/** Whether text written to this stream would be coloured. */
export function useColor(stream: NodeJS.WriteStream = process.stderr): boolean {
  return paint('x', 'red', stream) !== 'x';
}
