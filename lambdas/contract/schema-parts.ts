/**
 * Building blocks of the request schemas, shared by the per-area schema files. Each schema is
 * written once, with TypeBox: the value is plain JSON Schema (TypeBox adds only symbol keys, which
 * JSON, Ajv and the API Gateway models never see) and `RequestOf<typeof schema>` (json-schema.ts: TypeBox's `Static`, read-only) is the request's
 * TypeScript type. Stick to draft-04 keywords (API Gateway's models are built from these schemas;
 * lib/private/api-gateway-schema.ts): `enum` rather than TypeBox's `Literal` (`const`).
 */
import { type ObjectOptions, type SchemaOptions, type StringOptions, type TObject, type TOptional, type TProperties, type TSchema, type TString, type TUnsafe, Type } from '@sinclair/typebox';
import type { ListDefinition } from './lists';

/** The properties of `strictObject(properties, required)`: all but `required` optional. */
export type StrictProperties<P extends TProperties, R extends keyof P> = { [K in keyof P]: K extends R ? P[K] : TOptional<P[K]> };

/**
 * An object with exactly these properties (unknown ones are a 400 naming them); the ones named in
 * `required` must be present, the others may be.
 */
export function strictObject<P extends TProperties, R extends keyof P & string = never>(
  properties: P,
  required: readonly R[] = [],
  options: ObjectOptions = {},
): TObject<StrictProperties<P, R>> {
  const shaped = Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, (required as readonly string[]).includes(name) ? schema : Type.Optional(schema)]));
  return Type.Object(shaped, { additionalProperties: false, ...options }) as TObject<StrictProperties<P, R>>;
}

/** One of these strings (a draft-04 `enum`, typed as their union). */
export const enumOf = <const V extends readonly (string | number)[]>(values: V, options: SchemaOptions = {}): TUnsafe<V[number]> =>
  Type.Unsafe<V[number]>({ ...options, enum: [...values] });

/** A string of `minLength`–`maxLength` characters. */
export const text = (maxLength: number, minLength = 1, options: StringOptions = {}): TString => Type.String({ minLength, maxLength, ...options });

/** A JSON object of any shape (`{ "type": "object" }`). */
export const anyObject = (): TUnsafe<Record<string, unknown>> => Type.Unsafe<Record<string, unknown>>({ type: 'object' });

/** A display name: 1–256 characters, no control characters. */
export const displayName: TString = Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });

/** The query properties of a list route: skip/limit/sort plus the list's filters. */
type ListQueryProperties<L extends ListDefinition> = { [K in 'skip' | 'limit' | 'sort' | (keyof L['filters'] & string)]: TOptional<TString> };

/** A list route's query: skip/limit/sort plus the list's filters (lists.ts; parsed by core/listing.ts). Values arrive as strings. */
export const listQuery = <L extends ListDefinition>(list: L): TObject<ListQueryProperties<L>> =>
  Type.Object(Object.fromEntries(['skip', 'limit', 'sort', ...Object.keys(list.filters)].map((f) => [f, Type.Optional(Type.String({ maxLength: 1024 }))])), {
    additionalProperties: false,
  }) as TObject<ListQueryProperties<L>>;

/**
 * The path parameters of a route (`{id}`, `{credentialId}`): each 1–256 characters without control
 * characters. Our ids are UUIDs; the bound keeps any id well inside DynamoDB's 2,048-byte key limit,
 * so a malformed id is a 400 here rather than a failed read further in.
 */
export const pathParameters = (names: readonly string[]): TSchema => Type.Object(Object.fromEntries(names.map((name) => [name, displayName])));
