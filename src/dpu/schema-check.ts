/**
 * One place that turns a TypeBox schema check into one sentence for the user (DESIGN.md, Errors):
 * the first failing field, by its JSON pointer, and what the schema expects there.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** A configuration or description file that does not match its schema. */
export class ConfigError extends Error {
  readonly code = 'ERR_NVMF_DPU_CONFIG';
}

/** Returns `value` typed by `schema`, or throws a ConfigError naming the first bad field. */
export function checkSchema<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  if (Value.Check(schema, value)) return value;
  const first = Value.Errors(schema, value).First();
  const where = first?.path ? ` at ${first.path}` : '';
  const why = first?.message ?? 'does not match the expected shape';
  throw new ConfigError(`${what}${where}: ${why.charAt(0).toLowerCase()}${why.slice(1)}`);
}
