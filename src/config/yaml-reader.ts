import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { UsageError, suggest } from './errors.ts';

/**
 * A YAML document read with positions: every value knows its key path (`stages[1].timeout`) and where
 * it stands, so each config error can say file:line:col, the key, what was expected and what was found.
 */
export class YamlSource {
  readonly file: string;
  readonly text: string;
  readonly doc: Document;
  readonly lines: LineCounter;

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true });
    const err = this.doc.errors[0];
    if (err) {
      // yaml's message is "REASON at line L, column C:\n\nEXCERPT": the reason goes in the message, the excerpt in the hint
      const [reason, excerpt = ''] = err.message.split(/ at line \d+, column \d+:?/);
      const advice = "quote a value that starts with { [ * & ! | > or holds ': ' (e.g. run: '{} --x')";
      throw new UsageError(`${this.locate(err.pos[0])}: invalid YAML: ${reason}`, `${excerpt.replace(/^\n+|\n+$/g, '')}\n${advice}`.trim());
    }
  }

  locate(offset: number): string {
    const { line, col } = this.lines.linePos(Math.min(offset, this.text.length));
    return `${this.file}:${line}:${col}`;
  }

  root(): YamlValue {
    return new YamlValue(this, (this.doc.contents as Node | null) ?? null, '', 0);
  }
}

export class YamlValue {
  readonly source: YamlSource;
  readonly node: Node | null;
  readonly path: string;
  readonly offset: number;

  constructor(source: YamlSource, node: Node | null, path: string, fallbackOffset: number) {
    this.source = source;
    this.node = node && isAlias(node) ? ((node.resolve(source.doc) as Node | undefined) ?? null) : node;
    this.path = path;
    this.offset = node?.range?.[0] ?? fallbackOffset;
  }

  /** Throws a UsageError "file:line:col: key: message"; `at` points inside the value (a placeholder). */
  fail(message: string, hint?: string, at = this.offset): never {
    const key = this.path ? `${this.path}: ` : '';
    throw new UsageError(`${this.source.locate(at)}: ${key}${message}`, hint);
  }

  expect(expected: string, hint?: string): never {
    return this.fail(`expected ${expected}, found ${this.describe()}`, hint);
  }

  isNull(): boolean {
    return this.node === null || (isScalar(this.node) && this.node.value === null);
  }

  isList(): boolean {
    return isSeq(this.node);
  }

  isMapping(): boolean {
    return isMap(this.node);
  }

  describe(): string {
    if (this.isNull()) return 'nothing';
    if (isMap(this.node)) return 'a mapping';
    if (isSeq(this.node)) return 'a list';
    if (!isScalar(this.node)) return 'an unsupported YAML node';
    return typeof this.node.value === 'string' ? `'${this.node.value}'` : String(this.node.value);
  }

  /** A scalar as written: plain scalars keep their source text (`1.0` stays `1.0`, not 1). */
  scalar(expected: string, hint?: string): string | number {
    const n = this.node;
    if (!isScalar(n) || this.isNull() || typeof n.value === 'object') return this.expect(expected, hint);
    if (typeof n.value === 'number') return n.type === 'PLAIN' && n.range ? this.source.text.slice(n.range[0], n.range[1]) : n.value;
    if (n.type === 'PLAIN' && n.range) return this.source.text.slice(n.range[0], n.range[1]);
    return String(n.value);
  }

  /** A scalar as text; numbers become their source text. */
  string(expected = 'a string', hint?: string): string {
    return String(this.scalar(expected, hint));
  }

  /** Runs a value parser; its "expected ..., found ..." UsageError gets this value's position and key. */
  parse<T>(expected: string, fn: (value: string | number) => T): T {
    const n = this.node;
    const raw = isScalar(n) && typeof n.value === 'number' ? n.value : this.scalar(expected);
    return this.attempt(() => fn(raw));
  }

  /** Runs `fn`; a UsageError it throws ("expected ..., found ...") gets this value's position and key. */
  attempt<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof UsageError && !err.message.startsWith(`${this.source.file}:`)) return this.fail(err.message, err.hint);
      throw err;
    }
  }

  list(expected: string): YamlValue[] {
    if (!isSeq(this.node)) return this.expect(expected);
    return this.node.items.map((item, i) => new YamlValue(this.source, item as Node | null, `${this.path}[${i}]`, this.offset));
  }

  /** The entries of a mapping; an unknown key fails at the key, with a suggestion when one is close. */
  entries(expected: string, allowed: readonly string[]): Map<string, YamlValue> {
    if (!isMap(this.node)) return this.expect(expected);
    const out = new Map<string, YamlValue>();
    for (const pair of this.node.items) {
      const keyNode = pair.key as Node | null;
      const keyAt = keyNode?.range?.[0] ?? this.offset;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      const path = this.path ? `${this.path}.${key}` : key;
      if (!allowed.includes(key)) {
        const here = new YamlValue(this.source, keyNode, path || this.path, keyAt);
        const near = suggest(key, allowed);
        if (near) here.fail(`unknown key '${key}', did you mean ${near}?`, `the keys here are: ${allowed.join(', ')}`);
        here.fail(`unknown key '${key}'; expected one of ${allowed.join(', ')}`);
      }
      out.set(key, new YamlValue(this.source, pair.value as Node | null, path, keyAt));
    }
    return out;
  }

  /** The entries of a mapping with free-form keys (an item, env). */
  pairs(expected: string): [string, YamlValue][] {
    if (!isMap(this.node)) return this.expect(expected);
    return this.node.items.map((pair) => {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      return [key, new YamlValue(this.source, pair.value as Node | null, `${this.path}.${key}`, keyNode?.range?.[0] ?? this.offset)];
    });
  }

  /**
   * A list or mapping as plain data, aliases resolved (a bare node's toJSON() turns `*a` into
   * {source: 'a'}); yaml's alias limit refuses an alias bomb instead of expanding it.
   */
  toJS(): unknown {
    try {
      return this.node?.toJS(this.source.doc, { maxAliasCount: 100 }) ?? null;
    } catch (err) {
      return this.fail(`expected a value, found ${(err as Error).message}`);
    }
  }

  /** Fails at this mapping for a required key that is absent. */
  missing(key: string, expected: string, hint?: string): never {
    const path = this.path ? `${this.path}.${key}` : key;
    return new YamlValue(this.source, this.node, path, this.offset).fail(`expected ${expected}, found nothing (the key is missing)`, hint);
  }

  /** The offset of `needle` within this scalar's source text, for errors about part of a value. */
  offsetOf(needle: string, fallback = this.offset): number {
    const range = this.node?.range;
    if (!range) return fallback;
    const i = this.source.text.slice(range[0], range[1]).indexOf(needle);
    return i < 0 ? fallback : range[0] + i;
  }
}
