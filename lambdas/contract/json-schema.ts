/** The subset of JSON Schema (draft 2020-12 / Ajv) used by the route table. Plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };
