/**
 * Where a placeholder stands in a `sh -c` script, so that its value can be quoted for exactly that
 * place: unquoted (single-quote the whole value), inside '...' (close, escape, reopen: every `'` becomes
 * `'\''`), inside "..." (backslash before $ ` " \). Anywhere else (backquotes, ${...}, $((...)), $'...',
 * a comment, right after a backslash, after a here-document or a `case` inside $(...)) corral cannot be
 * sure how the shell reads the value, so the template is refused instead of guessed at.
 */
export type QuoteContext = 'plain' | 'single' | 'double';

export interface Refusal {
  /** where the placeholder stands, for the message: "inside backquotes" */
  where: string;
  hint: string;
}

type Frame = { kind: 'plain' | 'double' | 'backtick' | 'brace' | 'arith' | 'paren'; depth: number };

const WORD_BREAK = ' \t\n;&|()<>';
const ARGV_HINT = 'write the placeholder unquoted or inside plain \'...\' or "...", or give the command as a list (run: [prog, {}]; on the command line, several words after --)';

/** Feeds a script's literal text piece by piece; asked between pieces where a placeholder would stand. */
export class ShellLexer {
  private stack: Frame[] = [{ kind: 'plain', depth: 0 }];
  private single = false;
  private ansi = false;
  private comment = false;
  private escaped = false;
  private prev = '';
  private uncertain: string | null = null;
  private skip = 0;

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      if (this.skip > 0) {
        this.skip--;
        this.prev = text[i]!;
        continue;
      }
      this.step(text, i);
    }
  }

  private step(text: string, i: number): void {
    const c = text[i]!;
    const next = text[i + 1] ?? '';
    const f = this.top();
    const prev = this.prev;
    this.prev = this.escaped ? '' : c;
    if (this.escaped) {
      this.escaped = false;
      return;
    }
    if (this.comment) {
      if (c === '\n') this.comment = false;
      return;
    }
    if (this.single) {
      if (c === "'") this.single = false;
      return;
    }
    if (this.ansi) {
      if (c === '\\') this.escaped = true;
      else if (c === "'") this.ansi = false;
      return;
    }
    if (f.kind === 'backtick') {
      if (c === '\\') this.escaped = true;
      else if (c === '`') this.stack.pop();
      return;
    }
    if (f.kind === 'brace' || f.kind === 'arith') {
      const open = f.kind === 'brace' ? '{' : '(';
      const close = f.kind === 'brace' ? '}' : ')';
      if (c === open) f.depth++;
      else if (c === close && --f.depth === 0) this.stack.pop();
      else if (`'"\`\\`.includes(c)) this.uncertain ??= f.kind === 'brace' ? 'a quote inside ${...}' : 'a quote inside $((...))';
      return;
    }
    // plain, paren ($(...) body) and double
    if (c === '\\') {
      this.escaped = true;
      return;
    }
    if (c === '`') {
      this.stack.push({ kind: 'backtick', depth: 0 });
      return;
    }
    if (c === '$' && next === '{') {
      this.stack.push({ kind: 'brace', depth: 0 });
      return;
    }
    if (c === '$' && next === '(') {
      if (text[i + 2] === '(') {
        this.stack.push({ kind: 'arith', depth: 0 });
      } else {
        this.stack.push({ kind: 'paren', depth: 0 });
        this.skip = 1;
      }
      return;
    }
    if (f.kind === 'double') {
      if (c === '"') this.stack.pop();
      return;
    }
    if (c === '"') {
      this.stack.push({ kind: 'double', depth: 0 });
      return;
    }
    if (c === "'") {
      if (prev === '$') this.ansi = true;
      else this.single = true;
      return;
    }
    if (c === '#' && (prev === '' || WORD_BREAK.includes(prev))) {
      this.comment = true;
      return;
    }
    if (c === '<' && next === '<') this.uncertain ??= 'a here-document (<<)';
    if (f.kind === 'paren') {
      if (c === '(') f.depth++;
      else if (c === ')' && f.depth-- === 0) this.stack.pop();
      // `case` patterns end in an unmatched ')', which would end $(...) early in this count
      else if (/^case[ \t\n]/.test(text.slice(i, i + 5)) && (prev === '' || WORD_BREAK.includes(prev))) this.uncertain ??= 'a case inside $(...)';
    }
  }

  /** How a value placed here must be quoted, or why it cannot be placed here. */
  context(): QuoteContext | Refusal {
    if (this.escaped) return { where: 'right after a backslash', hint: 'remove the backslash: corral quotes the value itself' };
    if (this.comment) return { where: 'in a shell comment', hint: 'a value with a newline would end the comment; move the placeholder out of it' };
    if (this.single) return 'single';
    if (this.ansi) return { where: "inside $'...'", hint: ARGV_HINT };
    const f = this.top();
    if (f.kind === 'backtick') return { where: 'inside backquotes `...`', hint: 'use $(...) instead of backquotes' };
    if (f.kind === 'brace') return { where: 'inside ${...}', hint: ARGV_HINT };
    if (f.kind === 'arith') return { where: 'inside $((...))', hint: 'arithmetic evaluates its text as code; compute it in the command instead' };
    if (this.uncertain) return { where: `after ${this.uncertain}, where corral cannot tell how the shell quotes it`, hint: ARGV_HINT };
    return f.kind === 'double' ? 'double' : 'plain';
  }
}

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** The value as shell text for its place: the shell reads it back as exactly these characters. */
export function quoteFor(ctx: QuoteContext, value: string): string {
  if (ctx === 'single') return value.replaceAll("'", `'\\''`);
  if (ctx === 'double') return value.replace(/[\\$`"]/g, '\\$&');
  return SHELL_SAFE.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
