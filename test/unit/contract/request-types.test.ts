/**
 * The request schemas are written once, with TypeBox: what the routes hand Ajv, the OpenAPI
 * document and the API Gateway models is plain JSON Schema, and each handler's request type is
 * derived from it (the type assertions below fail `tsc` if a derived type drifts from the schema).
 */
import type { CreateKeyStoreRequest } from '../../../lambdas/contract/key-schemas';
import { routeFor, routes, type RequestBody, type RequestQuery } from '../../../lambdas/contract/routes';

/** Fails to compile unless A and B are the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typeIs = <T extends true>(): T => true as T;

describe('request schemas', () => {
  const schemas = routes.flatMap((r) => [r.requestSchema, r.querySchema].filter((s) => s !== undefined).map((s) => [r.operation, s] as const));

  it.each(schemas)('%s: its schema is the JSON it serializes to (TypeBox adds symbol keys only)', (_operation, schema) => {
    const json: unknown = JSON.parse(JSON.stringify(schema));
    const strip = (value: unknown): unknown =>
      Array.isArray(value) ? value.map(strip) : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strip(v)])) : value;
    expect(strip(schema)).toStrictEqual(json);
    expect(JSON.stringify(schema)).not.toMatch(/"(const|\$id|\$ref)":/);
  });
});

describe('request types', () => {
  it('are derived from the route table: bodies and queries per operation', () => {
    typeIs<Same<RequestBody<'CreateKeyStore'>, CreateKeyStoreRequest>>();
    typeIs<Same<RequestBody<'CreateKeyStore'>['name'], string>>();
    typeIs<Same<RequestBody<'CreateKeyStore'>['linked_state'], boolean | undefined>>();
    typeIs<Same<NonNullable<RequestBody<'CreateKeyStore'>['aws_param']['xks_proxy_connectivity']>, 'PUBLIC_ENDPOINT' | 'VPC_ENDPOINT_SERVICE'>>();
    typeIs<Same<RequestBody<'UpdateAccountContainer'>['assume_role_arn'], string | null | undefined>>();
    typeIs<Same<RequestBody<'GetKeyStore'>, undefined>>();
    typeIs<Same<RequestQuery<'ListKeyStores'>['blocked'], string | undefined>>();
    // @ts-expect-error a query parameter the list does not declare
    typeIs<Same<RequestQuery<'ListKeyStores'>['colour'], string | undefined>>();
    // ...and the fields the type requires are the ones the schema requires.
    expect([...(routeFor('CreateKeyStore').requestSchema?.required ?? [])].sort()).toEqual(['aws_param', 'kms', 'name', 'region']);
  });
});
