/**
 * The shapes the API's schemas need that TypeBox would write differently from the JSON schemas
 * the API has always published. Each keeps the JSON (so the OpenAPI document, the validation
 * errors and the serialized replies stay as they were) and gives it the static type TypeBox
 * could not infer from it.
 */
import {
  Type,
  type ObjectOptions,
  type SchemaOptions,
  type Static,
  type TObject,
  type TProperties,
  type TSchema,
  type TUnsafe,
} from '@sinclair/typebox';

/**
 * One of `values`, as `{type: 'string', enum}`: ajv's `enum` error lists the allowed values
 * (errors.ts answers them), where a union of literals would fail once per literal.
 */
export function StringEnum<const S extends string>(values: readonly S[], options: SchemaOptions = {}): TUnsafe<S> {
  return Type.Unsafe<S>({ ...options, type: 'string', enum: [...values] });
}

/** `schema` or null, as `type: [T, 'null']` (OpenAPI 3.0 shows it as `nullable`), not an anyOf. */
export function Nullable<T extends TSchema & { type: string }>(schema: T): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...plain(schema), type: [schema.type, 'null'] });
}

/**
 * An object the API sends. Its schema lists no `required`, as the OpenAPI document always had
 * it: fast-json-stringify, which writes replies from the schema, would throw on a missing
 * required field where it now leaves the field out. Its static type still says what every reply
 * carries: each field not wrapped in Type.Optional.
 */
export function ReplyObject<T extends TProperties>(properties: T, options: ObjectOptions = {}): TObject<T> {
  const { required: _, ...schema } = Type.Object(properties, options);
  return schema as TObject<T>;
}

/**
 * `schema` as it is, typed T: for what the JSON says more loosely than the code knows it (a
 * domain record passed through whole, a pair of numbers, counts by a known set of states).
 */
export function Narrowed<T>(schema: object): TUnsafe<T> {
  return Type.Unsafe<T>(plain(schema));
}

/** The schema's own JSON keys, without TypeBox's symbols (its kind would claim the wrong shape). */
function plain(schema: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(schema));
}
