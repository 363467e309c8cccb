/**
 * Line-by-line echo of a pool task's output, as GNU parallel's --line-buffer and --tag give it: only
 * whole lines reach corral's stdout/stderr, each in one write, so lines of tasks running at once never
 * mix mid-line; with a tag every line starts with it. A line longer than MAX_PENDING is passed on in
 * pieces (memory stays bounded whatever a task writes); a last line without a newline gets one.
 */
export interface LineEcho {
  /** put before every line ('' for --line-buffer alone) */
  prefix: string;
}

const MAX_PENDING = 64 << 10;
const NEWLINE = 0x0a;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private prefix: Buffer;

  constructor(echo: LineEcho) {
    this.prefix = Buffer.from(echo.prefix);
  }

  /** The complete lines this chunk ends (prefixed), as one buffer; empty when none. */
  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      out.push(this.prefix, ...this.pending, chunk.subarray(start, nl + 1));
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.pending.push(Buffer.from(chunk.subarray(start)));
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > MAX_PENDING) out.push(this.flush());
    }
    return Buffer.concat(out);
  }

  /** What is left of an unfinished line, ended with a newline. */
  flush(): Buffer {
    if (!this.pendingBytes) return Buffer.alloc(0);
    const line = Buffer.concat([this.prefix, ...this.pending, Buffer.from('\n')]);
    this.pending = [];
    this.pendingBytes = 0;
    return line;
  }
}

/** GNU parallel's tag: the item (with its stage, in a pool of several stages), then a TAB. */
export function tagOf(stage: string, item: string, oneStage: boolean): string {
  // a newline or a control character in an item would break the line it prefixes
  // eslint-disable-next-line no-control-regex
  const safe = item.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return oneStage ? `${safe}\t` : `${stage} ${safe}\t`;
}
