/**
 * A small JSON Schema (draft 2020-12) check for the keywords z.toJSONSchema
 * writes, so a test can hold a real answer to the schema the OpenAPI document
 * publishes. The only 2020-12 validator around (ajv 8) is a private dependency
 * of the OpenAPI parser, not ours to import. An unknown keyword fails loudly
 * rather than passing silently.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  ...['type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items', 'anyOf', 'oneOf', '$ref'],
  ...['pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems'],
  // Annotations: they describe, they do not constrain.
  ...['description', 'format', 'title', 'examples', 'readOnly'],
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Every way `value` breaks `schema`, as "path: what"; refs resolve against `root` (the OpenAPI document). */
export function schemaErrors(value: unknown, schema: Schema, root: Schema, path = '$'): string[] {
  const unknown = Object.keys(schema).filter((k) => !KNOWN.has(k));
  if (unknown.length) return [`${path}: the check does not know ${unknown.join(', ')}`];
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Schema | undefined)?.[key], root);
    if (!target) return [`${path}: unresolved ${schema.$ref}`];
    return schemaErrors(value, target as Schema, root, path);
  }
  const errors: string[] = [];
  const fail = (what: string) => errors.push(`${path}: ${what}`);
  if (schema.type !== undefined) {
    const types = ([] as unknown[]).concat(schema.type);
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) fail(`is ${t}, not ${types.join(' or ')}`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) fail(`${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  if ('const' in schema && schema.const !== value) fail(`is not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) fail(`does not match ${schema.pattern}`);
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength) fail('is too short');
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength) fail('is too long');
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`is below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`is above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail('has too few items');
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) fail('has too many items');
    if (schema.items) value.forEach((v, i) => errors.push(...schemaErrors(v, schema.items as Schema, root, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in obj)) fail(`lacks ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      if (props[key]) errors.push(...schemaErrors(v, props[key], root, `${path}.${key}`));
      else if (schema.additionalProperties === false) fail(`has ${key}, which the schema does not list`);
      else if (typeof schema.additionalProperties === 'object')
        errors.push(...schemaErrors(v, schema.additionalProperties as Schema, root, `${path}.${key}`));
    }
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key] as Schema[] | undefined;
    if (!options) continue;
    const fitting = options.filter((o) => schemaErrors(value, o, root, path).length === 0).length;
    if (key === 'anyOf' ? fitting === 0 : fitting !== 1) fail(`fits ${fitting} of the ${key} options`);
  }
  return errors;
}
