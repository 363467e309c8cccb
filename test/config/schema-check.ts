/**
 * A validator for the subset of JSON Schema (draft-07) that schema/pool.schema.json uses, so that a test
 * can check pool files against the published schema with no network and no extra dependency. A keyword
 * it does not know is an error: the schema cannot grow a rule this checker silently ignores.
 */
type Schema = Record<string, any>;

const KNOWN = new Set([
  '$schema', '$id', 'title', 'description', 'default', '$ref', 'definitions', 'type', 'enum', 'pattern', 'minimum', 'maximum',
  'minLength', 'minItems', 'items', 'properties', 'required', 'additionalProperties', 'propertyNames', 'anyOf', 'not',
]);

function typeOf(v: unknown): string[] {
  if (v === null) return ['null'];
  if (Array.isArray(v)) return ['array'];
  if (typeof v === 'number') return Number.isInteger(v) ? ['integer', 'number'] : ['number'];
  return [typeof v];
}

/** Every problem found, as "path: what"; empty when `value` satisfies `schema`. */
export function validate(value: unknown, schema: Schema, root: Schema = schema, path = '$'): string[] {
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`schema keyword '${k}' at ${path} is not supported by this checker`);
  if (schema.$ref) {
    const m = /^#\/definitions\/(.+)$/.exec(schema.$ref);
    if (!m || !root.definitions?.[m[1]!]) throw new Error(`unresolvable $ref ${schema.$ref}`);
    return validate(value, root.definitions[m[1]!], root, path);
  }
  const errs: string[] = [];
  if (schema.type) {
    const want: string[] = [].concat(schema.type);
    if (!typeOf(value).some((t) => want.includes(t))) return [`${path}: expected ${want.join(' or ')}, found ${JSON.stringify(value)}`];
  }
  if (schema.enum && !schema.enum.some((e: unknown) => e === value)) errs.push(`${path}: expected one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) errs.push(`${path}: '${value}' does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && value.length < schema.minLength) errs.push(`${path}: shorter than ${schema.minLength}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errs.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errs.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.items) value.forEach((v, i) => errs.push(...validate(v, schema.items, root, `${path}[${i}]`)));
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) errs.push(`${path}: missing ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (schema.propertyNames) errs.push(...validate(k, schema.propertyNames, root, `${path}.${k} (name)`));
      const sub = schema.properties?.[k];
      if (sub) errs.push(...validate(v, sub, root, `${path}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${path}: unknown key ${k}`);
      else if (typeof schema.additionalProperties === 'object') errs.push(...validate(v, schema.additionalProperties, root, `${path}.${k}`));
    }
  }
  if (schema.anyOf && !schema.anyOf.some((s: Schema) => validate(value, s, root, path).length === 0)) errs.push(`${path}: matches none of the allowed forms`);
  if (schema.not && validate(value, schema.not, root, path).length === 0) errs.push(`${path}: matches a form that is not allowed`);
  return errs;
}
