import type { TSchema } from '@sinclair/typebox';

/** The subset of JSON Schema (draft 2020-12 / Ajv) used by the route table. Plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** A request or query schema of the route table: JSON Schema written with TypeBox (schema-parts.ts), its type `Static<typeof schema>`. */
export type RequestSchema = TSchema;
