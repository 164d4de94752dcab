/**
 * One place that turns a TypeBox schema check into one sentence for the user (DESIGN.md, Errors):
 * the first failing field (named as the caller's user knows it: a flag or a JSON path), the value
 * it had, and what the schema expects there.
 */
import { Kind, type TSchema, type Static } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';

/** A configuration or description file, or a command line, that does not match its schema. */
export class ConfigError extends Error {
  readonly code = 'ERR_NVMF_DPU_CONFIG';
}

/** What a schema accepts, in words: its description, or the values of a union of literals. */
export function describeSchema(schema: TSchema): string {
  if (typeof schema.description === 'string') return schema.description;
  if (schema[Kind] === 'Union' && Array.isArray(schema.anyOf)) {
    const literals = (schema.anyOf as TSchema[]).map((s) => s.const as unknown);
    if (literals.every((l) => l !== undefined)) return `one of ${literals.join(', ')}`;
  }
  if (schema[Kind] === 'Literal') return JSON.stringify(schema.const);
  if (schema[Kind] === 'Integer') {
    const min = schema.minimum as number | undefined;
    const max = schema.maximum as number | undefined;
    if (min !== undefined && max !== undefined) return `a whole number from ${min} to ${max}`;
    if (min !== undefined) return `a whole number of at least ${min}`;
    return 'a whole number';
  }
  if (schema[Kind] === 'String') return 'a non-empty string';
  if (schema[Kind] === 'Array') return `a list of ${describeSchema(schema.items as TSchema)}`;
  if (schema[Kind] === 'Object') return 'an object';
  return 'of the expected type';
}

/**
 * Returns `value` typed by `schema`, or throws a ConfigError naming the first bad field, after
 * `what: ` (the file it came from; empty for a command line, whose flags speak for themselves).
 * `nameOf` renders a JSON pointer such as `/layout` the way the user wrote it (e.g. `--layout`).
 */
export function checkSchema<T extends TSchema>(
  schema: T,
  value: unknown,
  what: string,
  nameOf: (path: string) => string = (path) => path,
): Static<T> {
  if (Value.Check(schema, value)) return value;
  const lead = what ? `${what}: ` : '';
  const first = Value.Errors(schema, value).First();
  if (!first) throw new ConfigError(`${lead}the document does not match the expected shape`);
  const field = first.path ? nameOf(first.path) : 'the document';
  if (first.type === ValueErrorType.ObjectAdditionalProperties) {
    const known = Object.keys((first.schema.properties as object | undefined) ?? {});
    throw new ConfigError(`${lead}${field} is not a known key; known keys: ${known.join(', ')}`);
  }
  if (first.type === ValueErrorType.ObjectRequiredProperty) {
    throw new ConfigError(`${lead}${field} is missing; expected ${describeSchema(first.schema)}`);
  }
  const shown = first.value === undefined ? 'nothing' : JSON.stringify(first.value);
  throw new ConfigError(`${lead}${field} ${shown} is not ${describeSchema(first.schema)}`);
}
