import { UsageError, suggest } from './errors.ts';
import type { PoolItem, StageCommand } from './pool-spec.ts';
import { ShellLexer, quoteFor, type QuoteContext, type Refusal } from './shell-context.ts';

/**
 * Command templates: `{}` and `{item}` the item, `{#}` the item number (index + 1, the same in every
 * stage and on resume), `{gpu}` the slot's GPU index, `{name}` a field of an object item. `{{` is a
 * literal `{`, and `${...}` is left alone for the shell; any other `{` that is not a placeholder
 * (`{a,b}`, `{ print $1 }`) is literal text too, so shell and awk code can stay as written.
 */
export interface Placeholder {
  /** '' for `{}`, '#' for `{#}`, else the name inside the braces */
  name: string;
  /** where `{` stands in the template */
  offset: number;
  text: string;
}

export interface RenderContext {
  item: PoolItem;
  gpu: number | null;
  /** quote substituted values for `sh -c` (set by renderCommand for string commands) */
  shell?: boolean;
}

export const BUILTIN_PLACEHOLDERS = ['{}', '{item}', '{#}', '{gpu}'];
const PLACEHOLDER = /\{(#|[A-Za-z_][A-Za-z0-9_]*)?\}/y;

function scanTemplate(tpl: string): (string | Placeholder)[] {
  const parts: (string | Placeholder)[] = [];
  let literal = '';
  for (let i = 0; i < tpl.length; ) {
    const pair = tpl.slice(i, i + 2);
    if (pair === '{{' || pair === '${') {
      literal += pair === '{{' ? '{' : '${';
      i += 2;
      continue;
    }
    PLACEHOLDER.lastIndex = i;
    const m = tpl[i] === '{' ? PLACEHOLDER.exec(tpl) : null;
    if (m) {
      parts.push(literal, { name: m[1] ?? '', offset: i, text: m[0] });
      literal = '';
      i += m[0].length;
    } else {
      literal += tpl[i];
      i++;
    }
  }
  parts.push(literal);
  return parts;
}

export function listPlaceholders(tpl: string): Placeholder[] {
  return scanTemplate(tpl).filter((p): p is Placeholder => typeof p !== 'string');
}

/** Single-quotes a word for sh unless it is plainly safe (paths and numbers stay readable in logs). */
export function quoteShell(word: string): string {
  return quoteFor('plain', word);
}

/**
 * Where each placeholder of a shell script stands (unquoted, in '...', in "..."), or why it may not
 * stand there. A value is then quoted for its place, so no item can end a quote and run as code.
 */
function placeContexts(parts: (string | Placeholder)[]): (QuoteContext | Refusal)[] {
  const lexer = new ShellLexer();
  const out: (QuoteContext | Refusal)[] = [];
  for (const p of parts) {
    if (typeof p === 'string') lexer.feed(p);
    else {
      const ctx = lexer.context();
      out.push(ctx);
      // the value reads as one word of its context, which the lexer need not see: feed a stand-in
      lexer.feed(typeof ctx === 'string' ? 'x' : '');
    }
  }
  return out;
}

function describeRefusal(p: Placeholder, r: Refusal): string {
  return `expected each placeholder where corral can quote it for sh (unquoted, in '...' or in "..."), found ${p.text} ${r.where}`;
}

function lookupPlaceholder(p: Placeholder, ctx: RenderContext): string {
  if (p.name === '' || p.name === 'item') return ctx.item.value;
  if (p.name === '#') return String(ctx.item.index + 1);
  if (p.name === 'gpu') {
    if (ctx.gpu === null) throw new UsageError('{gpu} has no value in a CPU-only pool');
    return String(ctx.gpu);
  }
  const value = ctx.item.fields[p.name];
  if (value === undefined) throw new UsageError(`item ${ctx.item.index + 1} has no field '${p.name}' for ${p.text}`);
  return value;
}

/** Renders one template for one item; throws UsageError for a placeholder that has no value. */
export function renderTemplate(tpl: string, ctx: RenderContext): string {
  const parts = scanTemplate(tpl);
  const places = ctx.shell ? placeContexts(parts) : [];
  let n = 0;
  return parts
    .map((p) => {
      if (typeof p === 'string') return p;
      const value = lookupPlaceholder(p, ctx);
      if (!ctx.shell) return value;
      const place = places[n++]!;
      if (typeof place !== 'string') throw new UsageError(describeRefusal(p, place), place.hint);
      return quoteFor(place, value);
    })
    .join('');
}

/** The argv to spawn for a stage and an item: `sh -c SCRIPT` for a string command. */
export function renderCommand(cmd: StageCommand, ctx: RenderContext): string[] {
  if (cmd.kind === 'shell') return ['sh', '-c', renderTemplate(cmd.script, { ...ctx, shell: true })];
  return cmd.argv.map((arg) => renderTemplate(arg, { ...ctx, shell: false }));
}

export interface TemplateProblem {
  offset: number;
  /** the placeholder as written, e.g. `{ckpt}` */
  text: string;
  /** "unknown placeholder ..." in the expected/found form the config errors use */
  message: string;
  hint?: string;
}

/** Finds the first placeholder that would fail for some item, so a bad template stops the pool before it starts. */
export function checkTemplate(tpl: string, items: PoolItem[], hasGpu: boolean, shell = false): TemplateProblem | null {
  const fieldNames = [...new Set(items.flatMap((it) => Object.keys(it.fields)))];
  if (shell) {
    const parts = scanTemplate(tpl);
    const places = placeContexts(parts);
    const holders = parts.filter((p): p is Placeholder => typeof p !== 'string');
    for (let i = 0; i < holders.length; i++) {
      const place = places[i]!;
      if (typeof place !== 'string') return { offset: holders[i]!.offset, text: holders[i]!.text, message: describeRefusal(holders[i]!, place), hint: place.hint };
    }
  }
  for (const p of listPlaceholders(tpl)) {
    if (['', '#', 'item'].includes(p.name)) continue;
    if (p.name === 'gpu') {
      if (hasGpu) continue;
      return { offset: p.offset, text: p.text, message: 'expected a pool with gpus for {gpu}, found a CPU-only pool', hint: 'set gpus, or drop {gpu}' };
    }
    if (fieldNames.includes(p.name)) {
      const lacking = items.find((it) => it.fields[p.name] === undefined);
      if (!lacking) continue;
      return { offset: p.offset, text: p.text, message: `expected every item to have the field '${p.name}', found item ${lacking.index + 1} without it: ${lacking.value}` };
    }
    const known = [...BUILTIN_PLACEHOLDERS, ...fieldNames.map((f) => `{${f}}`)];
    const near = suggest(p.text, known);
    return {
      offset: p.offset,
      text: p.text,
      message: `expected a placeholder (one of ${known.join(', ')}), found unknown placeholder ${p.text}${near ? ` (did you mean ${near}?)` : ''}`,
      hint: 'write {{ for a literal {',
    };
  }
  return null;
}
