/** Building blocks of the request schemas (plain data), shared by the per-area schema files. */
import type { JsonSchema } from './json-schema';
import type { ListDefinition } from './lists';

/** An object with exactly these properties (unknown ones are a 400 naming them). */
export const strictObject = (properties: Record<string, JsonSchema>, required: string[] = [], extra: Record<string, unknown> = {}): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  ...extra,
});

/** A display name: 1–256 characters, no control characters. */
export const displayName: JsonSchema = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' };

/** A list route's query: skip/limit/sort plus the list's filters (lists.ts; parsed by core/listing.ts). Values arrive as strings. */
export const listQuery = (list: ListDefinition): JsonSchema =>
  strictObject(Object.fromEntries(['skip', 'limit', 'sort', ...Object.keys(list.filters)].map((f) => [f, { type: 'string', maxLength: 1024 }])));

/**
 * The path parameters of a route (`{id}`, `{credentialId}`): each 1–256 characters without control
 * characters. Our ids are UUIDs; the bound keeps any id well inside DynamoDB's 2,048-byte key limit,
 * so a malformed id is a 400 here rather than a failed read further in.
 */
export const pathParameters = (names: readonly string[]): JsonSchema => ({
  type: 'object',
  properties: Object.fromEntries(names.map((name) => [name, displayName])),
  required: [...names],
});
