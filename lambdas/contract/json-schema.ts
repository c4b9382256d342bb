import type { Static, TSchema } from '@sinclair/typebox';

/** The subset of JSON Schema (draft 2020-12 / Ajv) used by the route table. Plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** A request or query schema of the route table: JSON Schema written with TypeBox (schema-parts.ts). */
export type RequestSchema = TSchema;

type DeepReadonly<T> = T extends readonly (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The type of the requests a schema accepts, read-only all the way down (services read requests, never change them). */
export type RequestOf<S extends RequestSchema> = DeepReadonly<Static<S>>;
