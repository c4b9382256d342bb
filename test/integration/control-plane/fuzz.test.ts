/**
 * Robustness of every management route ("bad input never produces a 500 and never
 * changes state"). A few thousand malformed requests, generated from the route table and its
 * schemas with a seeded PRNG, go through each route's real handler to DynamoDB Local, the local
 * secret store and a SoftHSM2 token that hold a complete state (account container, partitions,
 * HSM keys, key stores with credentials, virtual keys, an HYOK key).
 *
 * Every request carries exactly one defect that makes it invalid (plus noise that does not make it
 * valid): bad JSON, wrong types, missing or extra fields (`__proto__` too), 100 KB strings, control
 * characters, bad path ids and query values, missing/expired/forged tokens, users without rights,
 * and shape-valid requests the services must refuse (taken names, references that do not fit, state
 * in use). Every answer must be the expected 4xx with the CCKM error body `{code, codeDesc, message}`
 * (a list asked for by a caller without rights: an empty page; an id a user asks for that does not
 * exist: the same 403 as one they may not see), and afterwards the table scan, the secret files and
 * the token's objects must be byte-identical. No PIN, XKS secret, bearer token or marker value sent
 * in a secret field may reach the log (captured from seeding on) or a response.
 *
 * A failure prints its seed: FUZZ_SEED=<seed> npx jest test/integration/control-plane/fuzz.test.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import Ajv from 'ajv';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { SignJWT } from 'jose';
import { LocalSecretStore } from '../../../lambdas/local/adapters/local-secret-store';
import { LOCAL_TOKEN_ISSUER } from '../../../lambdas/local/adapters/local-tokens';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { GROUPS } from '../../../lambdas/contract/env';
import type { JsonSchema } from '../../../lambdas/contract/json-schema';
import { routes, type RouteDefinition } from '../../../lambdas/contract/routes';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import { loadConfig } from '../../../lambdas/runtime/config';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { apiEvent, lambdaContext, parseResponse, TestTokens, type JsonResponse } from '../../helpers/api-events';
import { createTestToken, tokenDirectory, type TestToken } from '../../helpers/softhsm';
import { createTestStateTable, type TestStateTable } from '../../helpers/state-table';
import { FakeAwsKms } from '../../helpers/fake-aws-kms';
import { ValidationError } from '../../../lambdas/core/errors';
import { useLocalAdapterSet } from '../../../lambdas/local/local-adapter-set';

// Local mode's adapter set (the one KEY_MANAGER_MODE=local selects) is registered by local code only.
useLocalAdapterSet();

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed2026);
/** 70 per route ≈ 3,000 requests (a longer hunt: FUZZ_REQUESTS_PER_ROUTE=1000). */
const REQUESTS_PER_ROUTE = Number(process.env.FUZZ_REQUESTS_PER_ROUTE ?? 70);
const PARALLEL = 8;
const ROOT = join(__dirname, '..', '..', '..');

/** Values sent only in secret fields (`pin`, `secret_access_key`, `key_store_password`): never to be echoed. */
const PIN_MARKER = 'fuzz-pin-7f3a9c1e5b';
const PLAINTEXT_MARKER = 'fuzz-plaintext-secret-d41d8cd98f00b204';

// ---------------------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------------------

class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: small, fast, good enough to pick test inputs reproducibly. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  shuffle<T>(values: T[]): T[] {
    for (let i = values.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      [values[i], values[j]] = [values[j], values[i]];
    }
    return values;
  }
}

// ---------------------------------------------------------------------------------------------
// Malformed values
// ---------------------------------------------------------------------------------------------

const HUGE = 'x'.repeat(100_000);
const LONE_SURROGATE = '\ud800';

/** A JSON object with own `__proto__` and `constructor` keys (as JSON.parse makes them). */
const pollution = (): Record<string, unknown> => JSON.parse('{"__proto__":{"isAdmin":true,"polluted":true},"constructor":{"prototype":{"polluted":true}}}');

/** Candidates for a wrong value; a field gets one its schema rejects. */
const WRONG_VALUES: readonly unknown[] = [
  42, -1, 0, 2.5, 1e308, -0, true, false, null, '', ' ', 'text', HUGE, '\u0000', 'nul\u0000byte', 'bell\u0007', 'line\nbreak',
  '\u202eevil', `lone${LONE_SURROGATE}`, '🔑'.repeat(300), [], ['x'], [1, 2], [null], {}, { nested: { deeper: 'x' } },
];

const INVALID_JSON: readonly string[] = [
  '{', '{"name":', '{"a":1,}', "{'a':1}", 'NaN', '{"a":undefined}', '\ufeff{}', '{"a":1}garbage', '{}{}', '/* c */{}',
  '{"a":"\u0000"', `${'['.repeat(20_000)}`, `{"a":${'{"a":'.repeat(5_000)}`, '\u0000', 'nul', 'tru', '{"a":01}', '{"a":.5}', '{"a":"\\x41"}',
];

const NON_OBJECT_JSON: readonly string[] = ['[]', '[{}]', '1', '-0', '"string"', 'null', 'true', 'false', '1e999', '""', '[[[]]]'];

const EXTRA_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'isAdmin', 'toString', 'x'.repeat(1_000), 'ünïcödé', '', 'a.b', '$where'];

/** Path ids that name nothing (or cannot be an id at all). */
const BAD_IDS: readonly string[] = [
  '', ' ', 'x'.repeat(300), HUGE, '../../etc/passwd', '..%2F..%2Fkms', '..', '.', '/', '%00', '\u0000', 'bell\u0007', 'ünïcödé-🔑',
  LONE_SURROGATE, '__proto__', 'constructor', 'toString', 'hasOwnProperty', '*', "' OR 1=1 --", '{"$ne":null}', 'null', 'undefined',
  'keyStore#x', 'name#account#x', '00000000-0000-0000-0000-000000000000',
];

const JUNK_HEADERS: readonly Record<string, string>[] = [
  { 'X-Junk': 'ünïcödé 🔑' },
  { 'content-type': 'text/plain' },
  { 'content-type': 'application/xml; charset=utf-16' },
  { 'X-Forwarded-For': '127.0.0.1, ../..' },
  { 'X-Long': 'y'.repeat(8_000) },
  { 'content-length': '-1' },
];

/** A body sent as these exact bytes (not re-serialised). */
class Raw {
  constructor(readonly text: string) {}
}

// ---------------------------------------------------------------------------------------------
// Schema-driven mutations
// ---------------------------------------------------------------------------------------------

const ajv = new Ajv({ strict: false, allErrors: false });
const accepts = (schema: JsonSchema, value: unknown): boolean => ajv.validate(schema, value) as boolean;

type Path = readonly (string | number)[];

interface Field {
  readonly path: Path;
  readonly schema: JsonSchema;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Every field the schema describes, at paths that exist in `value` (their parents exist). */
function fieldsOf(schema: JsonSchema, value: unknown, path: Path = []): Field[] {
  const fields: Field[] = [];
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (properties && isPlainObject(value)) {
    for (const [name, child] of Object.entries(properties)) {
      fields.push({ path: [...path, name], schema: child });
      fields.push(...fieldsOf(child, value[name], [...path, name]));
    }
  }
  const items = schema.items as JsonSchema | undefined;
  if (items && Array.isArray(value) && value.length > 0) {
    fields.push({ path: [...path, 0], schema: items });
    fields.push(...fieldsOf(items, value[0], [...path, 0]));
  }
  return fields;
}

/** Strict objects present in `value`, with their required keys. */
function objectsOf(schema: JsonSchema, value: unknown, path: Path = []): { path: Path; required: readonly string[]; strict: boolean }[] {
  const found: { path: Path; required: readonly string[]; strict: boolean }[] = [];
  if (!isPlainObject(value)) {
    if (Array.isArray(value) && schema.items && value.length > 0) found.push(...objectsOf(schema.items as JsonSchema, value[0], [...path, 0]));
    return found;
  }
  if (schema.type === 'object') {
    found.push({ path, required: (schema.required as string[] | undefined) ?? [], strict: schema.additionalProperties === false });
  }
  for (const [name, child] of Object.entries((schema.properties as Record<string, JsonSchema> | undefined) ?? {})) {
    found.push(...objectsOf(child, value[name], [...path, name]));
  }
  return found;
}

function parentOf(root: unknown, path: Path): Record<string | number, unknown> {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    node = node[key] as Record<string | number, unknown>;
  }
  return node;
}

function setAt(root: unknown, path: Path, value: unknown): void {
  const parent = parentOf(root, path);
  // defineProperty: `__proto__` becomes an own key, exactly what JSON.parse of a request would make.
  Object.defineProperty(parent, path[path.length - 1], { value, enumerable: true, writable: true, configurable: true });
}

function objectAt(root: unknown, path: Path): Record<string, unknown> {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root) as Record<string, unknown>;
}

const show = (value: unknown): string => {
  const text = value instanceof Raw ? value.text : JSON.stringify(value) ?? 'undefined';
  return text.length > 60 ? `${text.slice(0, 40)}…(${text.length} chars)` : text;
};

// ---------------------------------------------------------------------------------------------
// The seeded state and the cases
// ---------------------------------------------------------------------------------------------

interface Seeded {
  readonly account: { id: string; name: string };
  readonly otherAccount: { id: string };
  readonly partition: { id: string; name: string };
  /** A second partition on the same token: keys in it are in "the wrong partition". */
  readonly otherPartition: { id: string };
  readonly keys: { healthCheck: { id: string; label: string }; source1: string; source2: string; weak: string; inOtherPartition: string };
  /** Full (3 of max 3 credentials), in us-east-1, holds the HYOK key. */
  readonly fullStore: { id: string; name: string; credentialIds: string[] };
  /** One credential, in eu-west-1. */
  readonly singleStore: { id: string; name: string; credentialId: string };
  /** Backs the HYOK key, not deletable, over source1. */
  readonly virtualKey: string;
  readonly hyokKey: string;
}

interface Tokens {
  readonly admin: string;
  /** A user no ACL names. */
  readonly nobody: string;
  /** A user with only `viewkeystore` on the account container. */
  readonly viewer: string;
  /** Authorization header values that must get a 401. */
  readonly badHeaders: readonly (string | undefined)[];
  /** Every token string the run sends (none may be logged). */
  readonly all: readonly string[];
}

type Expectation = readonly number[] | 'empty-page';

interface FuzzCase {
  readonly operation: string;
  readonly what: string;
  readonly event: APIGatewayProxyEvent;
  readonly expect: Expectation;
}

interface RequestParts {
  /** False for a route this suite knows no valid request of (added since): it gets only the defects that need none. */
  known?: boolean;
  params: Record<string, string> | null;
  body?: unknown;
  query?: Record<string, string> | null;
  multiValueQuery?: Record<string, string[]> | null;
  authorization?: string;
  headers?: Record<string, string>;
  isBase64Encoded?: boolean;
}

let counter = 0;
const fresh = (prefix: string): string => `${prefix}-${(counter += 1)}`;

/** A list of top-level resources (filtered by the caller's rights rather than refused). */
const isList = (route: RouteDefinition): boolean => route.method === 'GET' && !route.path.includes('{');

/** A request the route would accept from an admin (each invalid case breaks exactly one thing in it). */
function validRequest(route: RouteDefinition, s: Seeded, tokens: Tokens): RequestParts {
  const idFor = (): string | undefined => {
    // No synchronization job is seeded (its path sits under custom-key-stores/, whose ids are stores').
    if (route.path.includes('/synchronization-jobs/')) return undefined;
    if (route.path.startsWith('/v1/cckm/aws/kms/')) return s.account.id;
    if (route.path.startsWith('/v1/cckm/hsm/partitions/')) return s.partition.id;
    if (route.path.startsWith('/v1/cckm/hsm/keys/')) return s.keys.source2;
    if (route.path.startsWith('/v1/cckm/aws/custom-key-stores/')) return s.fullStore.id;
    if (route.path.startsWith('/v1/cckm/virtual/keys/')) return s.virtualKey;
    if (route.path.startsWith('/v1/cckm/aws/keys/')) return s.hyokKey;
    return undefined;
  };
  const params: Record<string, string> = {};
  const id = route.path.includes('{id}') ? idFor() : undefined;
  let known = !route.path.includes('{id}') || id !== undefined;
  if (route.path.includes('{id}')) params.id = id ?? randomUUID();
  if (route.path.includes('{credentialId}')) params.credentialId = s.fullStore.credentialIds[0];
  const bodies: Record<string, () => unknown> = {
    CreateAccountContainer: () => ({ name: fresh('fuzz-account'), account_id: '111122223333', regions: ['us-east-1'] }),
    UpdateAccountContainer: () => ({ regions: ['us-east-1', 'eu-west-1', 'ap-south-1'] }),
    UpdateAccountContainerAcls: () => ({ acls: [{ user_id: 'someone', permit: true, actions: ['viewkeystore'] }] }),
    DescribeAwsAccount: () => ({ assume_role_arn: 'arn:aws:iam::111122223333:role/KeyManagerAccess', assume_role_external_id: 'external-1' }),
    CreateHsmPartition: () => ({ name: fresh('fuzz-partition'), hsm_type: 'softhsm', token_label: 'fuzz-label', pin: PIN_MARKER, description: 'fuzz' }),
    UpdateHsmPartition: () => ({ pin: PIN_MARKER, description: 'changed' }),
    CreateHsmKey: () => ({ partition_id: s.partition.id, label: fresh('fuzz-key'), mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes: ['CKA_ENCRYPT', 'CKA_DECRYPT'] }),
    CreateKeyStore: () => ({
      name: fresh('fuzz-store'),
      kms: s.account.id,
      region: 'us-east-1',
      local_hosted_params: { partition_id: s.partition.id, health_check_key_id: s.keys.healthCheck.id, max_credentials: 3 },
      aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
    }),
    UpdateKeyStore: () => ({ name: fresh('fuzz-store'), enable_success_audit_event: true, local_hosted_params: { mtls_enabled: true }, aws_param: { xks_proxy_uri_endpoint: 'https://xks2.example.com' } }),
    UpdateHsmKey: () => ({ kms_id: s.account.id }),
    CreateVirtualKey: () => ({ source_key_id: s.keys.source2, deletable: true }),
    UpdateVirtualKey: () => ({ deletable: true }),
    CreateHyokKey: () => ({ local_hosted_params: { source_key_id: s.keys.source2, custom_key_store_id: s.fullStore.id } }),
    RotateHyokKey: () => ({ source_key_id: s.keys.source2 }),
  };
  const body = bodies[route.operation]?.();
  if (route.requestSchema && body === undefined) known = false;
  if (body !== undefined && route.requestSchema && !accepts(route.requestSchema, body)) throw new Error(`the valid body for ${route.operation} does not match its schema`);
  return {
    known,
    params: Object.keys(params).length > 0 ? params : null,
    body,
    query: route.querySchema ? { skip: '0', limit: '5' } : null,
    authorization: route.access.kind === 'public' ? undefined : `Bearer ${tokens.admin}`,
  };
}

/** Shape-valid requests that the services must refuse (state they conflict with, references that do not fit). */
function semanticCases(s: Seeded): Record<string, { what: string; change: (r: RequestParts) => void; status: number }[]> {
  const body = (patch: (b: any) => void) => (r: RequestParts): void => patch(r.body);
  const unknown = randomUUID();
  return {
    CreateAccountContainer: [
      { what: 'a taken name', change: body((b) => (b.name = s.account.name)), status: 409 },
      { what: 'an unknown region', change: body((b) => (b.regions = ['moon-1'])), status: 400 },
      { what: 'a user ARN as role', change: body((b) => (b.assume_role_arn = 'arn:aws:iam::111122223333:user/someone')), status: 400 },
      { what: 'a role in another account', change: body((b) => (b.assume_role_arn = 'arn:aws:iam::444455556666:role/KeyManager')), status: 400 },
      { what: 'an external id without a role', change: body((b) => (b.assume_role_external_id = 'external-1')), status: 400 },
    ],
    UpdateAccountContainer: [
      { what: 'removing regions key stores are in', change: body((b) => (b.regions = ['ap-south-1'])), status: 409 },
      { what: 'an unknown region', change: body((b) => (b.regions = ['us-east-1', 'eu-west-1', 'mars-2'])), status: 400 },
      { what: 'an external id without a role', change: body((b) => (b.assume_role_external_id = 'external-1')), status: 400 },
      { what: 'a role in another account', change: body((b) => (b.assume_role_arn = 'arn:aws:iam::444455556666:role/KeyManager')), status: 400 },
    ],
    UpdateAccountContainerAcls: [
      { what: 'an unknown action', change: body((b) => (b.acls[0].actions = ['viewkeystore', 'teleport'])), status: 400 },
      { what: 'both user_id and group', change: body((b) => (b.acls[0].group = 'g')), status: 400 },
      { what: 'neither user_id nor group', change: body((b) => delete b.acls[0].user_id), status: 400 },
    ],
    DeleteAccountContainer: [{ what: 'a container key stores use', change: () => undefined, status: 409 }],
    CreateHsmPartition: [{ what: 'a taken name', change: body((b) => (b.name = s.partition.name)), status: 409 }],
    DeleteHsmPartition: [{ what: 'a partition holding keys', change: () => undefined, status: 409 }],
    CreateHsmKey: [
      { what: 'an unknown partition', change: body((b) => (b.partition_id = unknown)), status: 400 },
      { what: 'a taken label', change: body((b) => (b.label = s.keys.healthCheck.label)), status: 409 },
    ],
    DeleteHsmKey: [
      { what: 'a health-check key in use', change: (r) => (r.params = { id: s.keys.healthCheck.id }), status: 409 },
      { what: 'a source key a virtual key uses', change: (r) => (r.params = { id: s.keys.source1 }), status: 409 },
    ],
    CreateKeyStore: [
      { what: 'a taken name', change: body((b) => (b.name = s.fullStore.name)), status: 409 },
      { what: 'an unknown kms', change: body((b) => (b.kms = unknown)), status: 400 },
      { what: 'a region outside the container', change: body((b) => (b.region = 'ap-south-1')), status: 400 },
      { what: 'an unknown partition', change: body((b) => (b.local_hosted_params.partition_id = unknown)), status: 400 },
      { what: 'an unknown health-check key', change: body((b) => (b.local_hosted_params.health_check_key_id = unknown)), status: 400 },
      { what: 'a health-check key without CKA_UNWRAP', change: body((b) => (b.local_hosted_params.health_check_key_id = s.keys.weak)), status: 400 },
      { what: 'a health-check key in another partition', change: body((b) => (b.local_hosted_params.health_check_key_id = s.keys.inOtherPartition)), status: 400 },
      { what: 'an http endpoint', change: body((b) => (b.aws_param.xks_proxy_uri_endpoint = 'http://xks.example.com')), status: 400 },
      { what: 'an endpoint with a path', change: body((b) => (b.aws_param.xks_proxy_uri_endpoint = 'https://xks.example.com/x')), status: 400 },
      { what: 'an endpoint with a unicode host', change: body((b) => (b.aws_param.xks_proxy_uri_endpoint = 'https://xks.exämple.com')), status: 400 },
      { what: 'VPC connectivity without a service name', change: body((b) => (b.aws_param.xks_proxy_connectivity = 'VPC_ENDPOINT_SERVICE')), status: 400 },
      { what: 'a service name with public connectivity', change: body((b) => (b.aws_param.xks_proxy_vpc_endpoint_service_name = 'com.amazonaws.vpce.us-east-1.vpce-svc-0123')), status: 400 },
      { what: 'linked_state true when AWS KMS cannot reach the proxy', change: body((b) => (b.linked_state = true)), status: 400 },
      { what: 'a CloudHSM store', change: body((b) => (b.aws_param.custom_key_store_type = 'AWS_CLOUDHSM')), status: 400 },
      { what: 'an unknown store type', change: body((b) => (b.aws_param.custom_key_store_type = 'OTHER')), status: 400 },
      { what: 'a uri path', change: body((b) => (b.aws_param.xks_proxy_uri_path = '/kms/xks/v1')), status: 400 },
      { what: "another partition type's tier", change: body((b) => (b.local_hosted_params.source_key_tier = 'hsm-luna')), status: 400 },
      { what: 'the local tier', change: body((b) => (b.local_hosted_params.source_key_tier = 'local')), status: 400 },
      { what: 'a CloudHSM password', change: body((b) => (b.aws_param.key_store_password = PLAINTEXT_MARKER)), status: 400 },
      { what: 'a CloudHSM cluster', change: body((b) => (b.aws_param.cloud_hsm_cluster_id = 'cluster-1234')), status: 400 },
    ],
    UpdateKeyStore: [
      { what: 'a secret access key', change: body((b) => (b.aws_param.secret_access_key = PLAINTEXT_MARKER)), status: 400 },
      { what: 'an access key id', change: body((b) => (b.aws_param.access_key_id = 'AKIAFUZZFUZZFUZZFUZZ')), status: 400 },
      { what: 'a CloudHSM password', change: body((b) => (b.aws_param.key_store_password = PLAINTEXT_MARKER)), status: 400 },
      { what: 'an http endpoint', change: body((b) => (b.aws_param.xks_proxy_uri_endpoint = 'http://xks.example.com')), status: 400 },
      { what: 'another uri path', change: body((b) => (b.aws_param.xks_proxy_uri_path = '/other/kms/xks/v1')), status: 400 },
      { what: 'max_credentials below the count', change: body((b) => (b.local_hosted_params.max_credentials = 2)), status: 409 },
      { what: "another store's name", change: body((b) => (b.name = s.singleStore.name)), status: 409 },
      { what: 'an unknown health-check key', change: body((b) => (b.local_hosted_params.health_check_key_id = unknown)), status: 400 },
      { what: 'a health-check key without CKA_UNWRAP', change: body((b) => (b.local_hosted_params.health_check_key_id = s.keys.weak)), status: 400 },
      { what: 'a health-check key in another partition', change: body((b) => (b.local_hosted_params.health_check_key_id = s.keys.inOtherPartition)), status: 400 },
      { what: 'VPC connectivity without a service name', change: body((b) => (b.aws_param.xks_proxy_connectivity = 'VPC_ENDPOINT_SERVICE')), status: 400 },
      { what: 'a malformed service name', change: body((b) => Object.assign(b.aws_param, { xks_proxy_connectivity: 'VPC_ENDPOINT_SERVICE', xks_proxy_vpc_endpoint_service_name: 'vpce-svc-x' })), status: 400 },
    ],
    DeleteKeyStore: [{ what: 'a store holding an HYOK key', change: () => undefined, status: 409 }],
    CreateKeyStoreCredential: [{ what: 'a full store whose every credential AWS KMS used in the last 10 minutes', change: () => undefined, status: 409 }],
    DeleteKeyStoreCredential: [
      { what: "a store's only credential", change: (r) => (r.params = { id: s.singleStore.id, credentialId: s.singleStore.credentialId }), status: 409 },
      { what: "another store's credential", change: (r) => (r.params = { id: s.fullStore.id, credentialId: s.singleStore.credentialId }), status: 404 },
    ],
    GetKeyStoreCredential: [{ what: "another store's credential", change: (r) => (r.params = { id: s.fullStore.id, credentialId: s.singleStore.credentialId }), status: 404 }],
    UpdateHsmKey: [
      { what: 'an unknown container', change: body((b) => (b.kms_id = unknown)), status: 400 },
      { what: 'a key a key store uses, to another container', change: (r) => ((r.params = { id: s.keys.healthCheck.id }), (r.body = { kms_id: s.otherAccount.id })), status: 409 },
    ],
    CreateVirtualKey: [
      { what: 'an unknown source key', change: body((b) => (b.source_key_id = unknown)), status: 400 },
      { what: 'a partition id as source key', change: body((b) => (b.source_key_id = s.partition.id)), status: 400 },
    ],
    DeleteVirtualKey: [{ what: 'a key that is not deletable and backs an HYOK key', change: () => undefined, status: 409 }],
    CreateHyokKey: [
      { what: 'AWS parameters', change: body((b) => (b.aws_param = { KeyUsage: 'ENCRYPT_DECRYPT' })), status: 400 },
      { what: 'AWS parameters with prototype keys', change: body((b) => (b.aws_param = pollution())), status: 400 },
      // Well-formed link parameters on an unlinked store: the store must be linked first.
      { what: 'key users', change: body((b) => (b.key_users = ['arn:aws:iam::111122223333:user/u'])), status: 409 },
      { what: 'a policy template', change: body((b) => (b.policytemplate = 'template')), status: 400 },
      { what: 'an unknown key store', change: body((b) => (b.local_hosted_params.custom_key_store_id = unknown)), status: 400 },
      { what: 'an unknown source key', change: body((b) => (b.local_hosted_params.source_key_id = unknown)), status: 400 },
      { what: 'a virtual key that backs an HYOK key', change: body((b) => (b.local_hosted_params.source_key_id = s.virtualKey)), status: 409 },
      { what: 'a source key in another partition', change: body((b) => (b.local_hosted_params.source_key_id = s.keys.inOtherPartition)), status: 400 },
      { what: "another partition type's tier", change: body((b) => (b.local_hosted_params.source_key_tier = 'hsm-luna')), status: 400 },
    ],
    RotateHyokKey: [
      { what: 'the current source key', change: body((b) => (b.source_key_id = s.keys.source1)), status: 400 },
      { what: 'an unknown source key', change: body((b) => (b.source_key_id = unknown)), status: 400 },
      { what: 'a source key in another partition', change: body((b) => (b.source_key_id = s.keys.inOtherPartition)), status: 400 },
      { what: "another partition type's tier", change: body((b) => (b.source_key_tier = 'hsm-luna')), status: 400 },
    ],
  };
}

/** Seeded ids that cannot name what `param` of `route` names (ids of other kinds of resource). */
function idsOfOtherKinds(route: RouteDefinition, param: string, s: Seeded): string[] {
  const byKind: Record<string, string[]> = {
    '/v1/cckm/aws/kms': [s.account.id],
    '/v1/cckm/hsm/partitions': [s.partition.id, s.otherPartition.id],
    '/v1/cckm/hsm/keys': [s.keys.healthCheck.id, s.keys.source1, s.keys.source2, s.keys.weak, s.keys.inOtherPartition],
    '/v1/cckm/aws/custom-key-stores': [s.fullStore.id, s.singleStore.id],
    credentials: [...s.fullStore.credentialIds, s.singleStore.credentialId],
    '/v1/cckm/virtual/keys': [s.virtualKey],
    '/v1/cckm/aws/keys': [s.hyokKey],
  };
  const own = param === 'credentialId' ? 'credentials' : Object.keys(byKind).find((prefix) => route.path.startsWith(prefix));
  return Object.entries(byKind).flatMap(([kind, ids]) => (kind === own ? [] : ids));
}

function toEvent(route: RouteDefinition, parts: RequestParts): APIGatewayProxyEvent {
  const base = apiEvent(route.operation, { headers: parts.headers });
  const headers = { ...base.headers } as Record<string, string>;
  if (parts.authorization !== undefined) headers.Authorization = parts.authorization;
  const body = parts.body === undefined ? null : parts.body instanceof Raw ? parts.body.text : JSON.stringify(parts.body);
  return {
    ...base,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: parts.params,
    queryStringParameters: parts.query ?? null,
    multiValueQueryStringParameters: parts.multiValueQuery ?? (parts.query ? Object.fromEntries(Object.entries(parts.query).map(([k, v]) => [k, [v]])) : null),
    body: parts.isBase64Encoded && body !== null ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: parts.isBase64Encoded ?? false,
  };
}

/** Noise that never makes an invalid request valid: junk headers, an ignored body or query, unicode free text. */
function addNoise(route: RouteDefinition, parts: RequestParts, rng: Random): void {
  if (rng.chance(0.3)) parts.headers = { ...rng.pick(JUNK_HEADERS) };
  if (!route.requestSchema && rng.chance(0.3)) parts.body = rng.pick<unknown>([new Raw(rng.pick(INVALID_JSON)), { junk: HUGE }, pollution(), [1, 2, 3]]);
  if (!route.querySchema && rng.chance(0.2)) parts.query = { junk: rng.pick(BAD_IDS.filter((id) => !id.includes(LONE_SURROGATE))) };
  if (isPlainObject(parts.body) && rng.chance(0.4)) {
    // Free-text fields only (never references or unique values, which would change the defect).
    if (typeof parts.body.description === 'string') parts.body.description = rng.pick(['ünïcödé ✓', '🔑'.repeat(100), 'tab\there', '']);
    if (typeof parts.body.name === 'string') parts.body.name = `${rng.pick(['ünïcödé', 'name with spaces', '名前', 'ÅÄÖ'])} ${parts.body.name}`;
  }
}

function makeCase(route: RouteDefinition, category: string, s: Seeded, tokens: Tokens, rng: Random, semantic: ReturnType<typeof semanticCases>): FuzzCase {
  const parts = validRequest(route, s, tokens);
  const make = (what: string, expect: Expectation): FuzzCase => ({ operation: route.operation, what: `${category}: ${what}`, event: toEvent(route, parts), expect });
  if (category !== 'semantic') addNoise(route, parts, rng);

  switch (category) {
    case 'auth': {
      parts.authorization = rng.pick(tokens.badHeaders);
      return make(`Authorization ${show(parts.authorization)}`, [401]);
    }
    case 'unprivileged': {
      if (!parts.known) {
        // Only admin-only routes refuse a user before reading anything.
        parts.authorization = `Bearer ${tokens.nobody}`;
        return make('a user on an admin-only route', [403]);
      }
      const candidates: { token: string; who: string }[] = [{ token: tokens.nobody, who: 'a user without ACL' }];
      const viewerMayDoIt = route.access.kind === 'authenticated' || (route.access.kind === 'acl' && route.access.action === 'viewkeystore');
      if (!viewerMayDoIt) candidates.push({ token: tokens.viewer, who: 'a user with only viewkeystore' });
      const { token, who } = rng.pick(candidates);
      parts.authorization = `Bearer ${token}`;
      const expect: Expectation = isList(route) && route.access.kind !== 'admin' ? 'empty-page' : [403];
      return make(who, expect);
    }
    case 'hidden': {
      // A user asking for something that does not exist learns no more than about something they may not see.
      const name = rng.pick(Object.keys(parts.params ?? {}));
      parts.params = { ...parts.params, [name]: rng.pick([...idsOfOtherKinds(route, name, s), randomUUID()]) };
      const token = rng.pick([tokens.nobody, tokens.viewer]);
      parts.authorization = `Bearer ${token}`;
      // The viewer may see the (existing) key store: a credential missing from it is plainly a 404.
      const viewerSeesStore = token === tokens.viewer && name === 'credentialId' && route.access.kind === 'acl' && route.access.action === 'viewkeystore';
      return make(`${token === tokens.viewer ? 'the viewer' : 'a user without ACL'} asking for ${show(parts.params)}`, viewerSeesStore ? [404] : [403]);
    }
    case 'path': {
      const names = Object.keys(parts.params ?? {});
      const missing = rng.chance(0.05);
      if (missing) {
        parts.params = null;
      } else {
        const name = rng.pick(names);
        const value = rng.chance(0.7) ? rng.pick(BAD_IDS) : rng.pick([...idsOfOtherKinds(route, name, s), randomUUID()]);
        parts.params = { ...parts.params, [name]: value };
      }
      const statuses = route.access.kind === 'public' ? [400, 404, 429] : [400, 404];
      return make(missing ? 'no path parameters' : `path ${show(parts.params)}`, statuses);
    }
    case 'query': {
      const query = { ...(parts.query ?? {}) };
      const properties = Object.keys((route.querySchema?.properties as Record<string, unknown>) ?? {});
      const booleans = properties.filter((p) => ['blocked', 'linked_state', 'gone', 'deletable'].includes(p));
      const picked = parts.known ? rng.pick(['skip', 'limit', 'sort', 'unknown', 'huge', 'boolean', 'repeated']) : 'repeated';
      const kind = picked === 'boolean' && booleans.length === 0 ? 'unknown' : picked;
      let what: string;
      switch (kind) {
        case 'skip':
          query.skip = rng.pick(['-1', 'NaN', '1.5', '1e3', ' 1', '0x10', '99999999999999999999', 'Infinity', '٣']);
          what = `skip ${show(query.skip)}`;
          break;
        case 'limit':
          query.limit = rng.pick(['-5', '1001', 'abc', '∞', '10 ', '1e2', '+1', '-0']);
          what = `limit ${show(query.limit)}`;
          break;
        case 'sort':
          query.sort = rng.pick(['colour', '-', '__proto__', 'constructor', 'name;drop', 'createdAt,,bogus', '-toString', ` ${'z'.repeat(500)}`]);
          what = `sort ${show(query.sort)}`;
          break;
        case 'huge':
          query[rng.pick(properties)] = 'q'.repeat(rng.pick([1_025, 100_000]));
          what = 'a 100 KB (or 1025-character) value';
          break;
        case 'boolean':
          query[rng.pick(booleans)] = rng.pick(['yes', 'TRUE', '1', 'null']);
          what = `boolean filter ${show(query)}`;
          break;
        case 'unknown':
          setAt(query, [rng.pick(EXTRA_KEYS)], 'x');
          what = `unknown parameter ${show(Object.keys(query))}`;
          break;
        default:
          // `?limit=5&limit=7`: API Gateway keeps the last in queryStringParameters, all of them in multiValue.
          parts.multiValueQuery = { ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])), limit: ['5', '7'] };
          query.limit = '7';
          what = 'a repeated parameter';
      }
      parts.query = query;
      return make(what, [400]);
    }
    case 'semantic': {
      const scenario = rng.pick(semantic[route.operation]);
      scenario.change(parts);
      return make(scenario.what, [scenario.status]);
    }
    case 'body': {
      const schema = route.requestSchema as JsonSchema;
      const valid = parts.body;
      const kind = parts.known
        ? rng.pick(['invalid-json', 'non-object', 'wrong-type', 'wrong-type', 'missing', 'extra', 'extra', 'huge', 'base64'])
        : rng.pick(['invalid-json', 'non-object', 'base64']);
      if (kind === 'invalid-json' || kind === 'base64') {
        parts.body = new Raw(rng.pick(INVALID_JSON));
        parts.isBase64Encoded = kind === 'base64';
        return make(`${kind} ${show(parts.body)}`, [400]);
      }
      if (kind === 'non-object') {
        // No body at all counts as `{}`: a defect only where `{}` is not a valid request.
      const empty = parts.known && !accepts(schema, {}) ? ['', '   '] : [];
      const text = rng.pick([...NON_OBJECT_JSON, ...empty, ...(parts.known ? [JSON.stringify([valid])] : [])]);
        parts.body = new Raw(text);
        return make(`body ${show(text)}`, [400]);
      }
      const body = clone(valid);
      let what: string;
      // A body with nothing required and no minimum is valid empty: drop a field by adding one instead.
      const dropsNothing = kind === 'missing' && accepts(schema, {});
      if (kind === 'missing' && !dropsNothing) {
        const withRequired = objectsOf(schema, body).filter((o) => o.required.some((r) => objectAt(body, o.path)[r] !== undefined));
        if (withRequired.length > 0) {
          const object = rng.pick(withRequired);
          const name = rng.pick(object.required.filter((r) => objectAt(body, object.path)[r] !== undefined));
          delete objectAt(body, object.path)[name];
          what = `without ${[...object.path, name].join('.')}`;
        } else {
          // Nothing required here (PATCH): an empty object.
          for (const key of Object.keys(body as object)) delete (body as Record<string, unknown>)[key];
          what = 'an empty object';
        }
      } else if (kind === 'extra' || dropsNothing) {
        const object = rng.pick(objectsOf(schema, body).filter((o) => o.strict));
        const key = rng.pick(EXTRA_KEYS);
        setAt(body, [...object.path, key], rng.pick<unknown>(['x', pollution(), 1, null]));
        what = `extra ${show([...object.path, key].join('.'))}`;
      } else {
        const fields = fieldsOf(schema, body);
        const stringFields = fields.filter((f) => !accepts(f.schema, HUGE));
        const field = kind === 'huge' && stringFields.length > 0 ? rng.pick(stringFields) : rng.pick(fields);
        const candidates = (kind === 'huge' ? [HUGE, ...WRONG_VALUES] : [...WRONG_VALUES, pollution()]).filter((v) => !accepts(field.schema, v));
        const value = kind === 'huge' && candidates.includes(HUGE) ? HUGE : rng.pick(candidates);
        setAt(body, field.path, value);
        what = `${field.path.join('.')} = ${show(value)}`;
      }
      if (accepts(schema, body)) throw new Error(`generator bug: ${route.operation} ${what} is valid: ${show(body)}`);
      parts.body = body;
      return make(what, [400]);
    }
    default:
      throw new Error(`unknown category ${category}`);
  }
}

/** Routes this suite knows no valid request of: fuzzed only with defects that need none. */
function genericOnly(s: Seeded, tokens: Tokens): string[] {
  return routes.filter((route) => !validRequest(route, s, tokens).known).map((route) => route.operation);
}

function generateCases(s: Seeded, tokens: Tokens, rng: Random): FuzzCase[] {
  const semantic = semanticCases(s);
  const generic = new Set(genericOnly(s, tokens));
  const cases: FuzzCase[] = [];
  for (const route of routes) {
    const unprivileged = !generic.has(route.operation) || route.access.kind === 'admin' ? ['unprivileged'] : [];
    const categories = [
      ...(route.access.kind === 'public' ? [] : ['auth', 'auth', ...unprivileged]),
      ...(route.path.includes('{') ? ['path', 'path'] : []),
      ...(route.path.includes('{') && route.access.kind !== 'public' && !generic.has(route.operation) ? ['hidden'] : []),
      ...(route.requestSchema ? ['body', 'body', 'body', 'body'] : []),
      ...(route.querySchema ? ['query', 'query'] : []),
      ...(semantic[route.operation] ? ['semantic', 'semantic'] : []),
    ];
    for (let i = 0; i < REQUESTS_PER_ROUTE; i += 1) cases.push(makeCase(route, rng.pick(categories), s, tokens, rng, semantic));
  }
  return rng.shuffle(cases);
}

/** Why the answer is wrong, or undefined when it is right. */
function judge(c: FuzzCase, result: APIGatewayProxyResult): string | undefined {
  let body: any;
  try {
    body = result.body ? JSON.parse(result.body) : undefined;
  } catch {
    return `status ${result.statusCode}, body is not JSON: ${result.body.slice(0, 80)}`;
  }
  if (c.expect === 'empty-page') {
    if (result.statusCode !== 200 || body?.total !== 0 || body?.resources?.length !== 0) return `expected an empty page, got ${result.statusCode} ${result.body.slice(0, 120)}`;
    return undefined;
  }
  if (!c.expect.includes(result.statusCode)) return `expected ${c.expect.join('/')}, got ${result.statusCode} ${result.body.slice(0, 160)}`;
  const contentType = Object.entries(result.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  if (contentType !== 'application/json') return `content-type ${String(contentType)}`;
  if (typeof body !== 'object' || body === null || body.code !== result.statusCode || typeof body.codeDesc !== 'string' || !body.codeDesc.startsWith('NCERR') || typeof body.message !== 'string' || body.message === '') {
    return `not a CCKM error body: ${result.body.slice(0, 160)}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

const tokens = TestTokens.create();
const handlers = new Map<string, Handler>(routes.map((route) => [route.operation, (require(join(ROOT, route.handler)) as { handler: Handler }).handler]));
let table: TestStateTable;
let softhsm: TestToken;
let secretsDir: string;
let seeded: Seeded;
let issuedTokens: Tokens;
/** Secrets the seeding handed out (XKS secret access keys). */
const xksSecrets: string[] = [];
/** Everything written to stdout/stderr (the Powertools logger's output) from seeding to the end. */
const logged: string[] = [];
let summary = '';

async function call(operation: string, options: { params?: Record<string, string>; body?: unknown; query?: Record<string, string> } = {}): Promise<JsonResponse> {
  const route = routes.find((r) => r.operation === operation) as RouteDefinition;
  const event = toEvent(route, { params: options.params ?? null, body: options.body, query: options.query, authorization: `Bearer ${issuedTokens.admin}` });
  return parseResponse(await (handlers.get(operation) as Handler)(event, lambdaContext(operation)));
}

async function seed(operation: string, options: Parameters<typeof call>[1]): Promise<any> {
  const response = await call(operation, options);
  if (response.statusCode >= 300) throw new Error(`seeding ${operation} failed: ${response.statusCode} ${JSON.stringify(response.body)}`);
  return response.body;
}

const HEALTH_CHECK = ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE', 'CKA_PRIVATE'];

async function seedState(): Promise<Seeded> {
  const account = await seed('CreateAccountContainer', { body: { name: 'fuzz-home', account_id: '111122223333', regions: ['us-east-1', 'eu-west-1'] } });
  await seed('UpdateAccountContainerAcls', { params: { id: account.id }, body: { acls: [{ user_id: 'viewer', permit: true, actions: ['viewkeystore'] }] } });
  const otherAccount = await seed('CreateAccountContainer', { body: { name: 'fuzz-other', account_id: '111122223333', regions: ['us-east-1'] } });
  const partitionBody = (name: string) => ({ name, hsm_type: 'softhsm', token_label: softhsm.partition.tokenLabel, pin: softhsm.pin });
  const partition = await seed('CreateHsmPartition', { body: partitionBody('fuzz-partition-main') });
  const otherPartition = await seed('CreateHsmPartition', { body: partitionBody('fuzz-partition-other') });
  const key = (partitionId: string, label: string, attributes = HEALTH_CHECK) => seed('CreateHsmKey', { body: { partition_id: partitionId, label, attributes } });
  const healthCheck = await key(partition.id, 'fuzz-health-check');
  const source1 = await key(partition.id, 'fuzz-source-1');
  const source2 = await key(partition.id, 'fuzz-source-2');
  const weak = await key(partition.id, 'fuzz-no-unwrap', HEALTH_CHECK.filter((a) => a !== 'CKA_UNWRAP'));
  const inOther = await key(otherPartition.id, 'fuzz-elsewhere');
  const store = (name: string, region: string, maxCredentials: number) =>
    seed('CreateKeyStore', {
      body: {
        name,
        kms: account.name,
        region,
        local_hosted_params: { partition_id: partition.id, health_check_key_id: healthCheck.id, max_credentials: maxCredentials },
        aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
      },
    });
  const full = await store('fuzz-store-full', 'us-east-1', 3);
  const second = await seed('CreateKeyStoreCredential', { params: { id: full.id } });
  const third = await seed('CreateKeyStoreCredential', { params: { id: full.id } });
  const single = await store('fuzz-store-single', 'eu-west-1', 2);
  xksSecrets.push(full.secret_access_key, second.secret_access_key, third.secret_access_key, single.secret_access_key);
  const credentials = await seed('ListKeyStoreCredentials', { params: { id: full.id }, query: { sort: 'version' } });
  // As the XKS proxy records them: every credential of the full store is in use, so none may be pushed out.
  for (const c of credentials.resources as { id: string }[]) await table.credentialUsage.recordUse(full.id, c.id, new Date());
  const singleCredentials = await seed('ListKeyStoreCredentials', { params: { id: single.id } });
  const virtualKey = await seed('CreateVirtualKey', { body: { source_key_id: source1.id } });
  const hyokKey = await seed('CreateHyokKey', { body: { local_hosted_params: { source_key_id: virtualKey.id, custom_key_store_id: full.id } } });
  return {
    account: { id: account.id, name: account.name },
    otherAccount: { id: otherAccount.id },
    partition: { id: partition.id, name: partition.name },
    otherPartition: { id: otherPartition.id },
    keys: { healthCheck: { id: healthCheck.id, label: healthCheck.label }, source1: source1.id, source2: source2.id, weak: weak.id, inOtherPartition: inOther.id },
    fullStore: { id: full.id, name: full.name, credentialIds: credentials.resources.map((c: { id: string }) => c.id) },
    singleStore: { id: single.id, name: single.name, credentialId: singleCredentials.resources[0].id },
    virtualKey: virtualKey.id,
    hyokKey: hyokKey.id,
  };
}

async function issueTokens(): Promise<Tokens> {
  const admin = await tokens.admin('fuzz-admin');
  const nobody = await tokens.user('nobody');
  const viewer = await tokens.user('viewer');
  const expired = await tokens.issue('fuzz-admin', [GROUPS.admins], -120);
  const forged = await TestTokens.create().admin('fuzz-admin');
  const sign = (claims: Record<string, unknown>, issuer = LOCAL_TOKEN_ISSUER) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).setIssuer(issuer).setSubject('fuzz-sub').setIssuedAt().setExpirationTime('1h').sign(tokens.signingKey());
  const adminClaims = { username: 'fuzz-admin', 'cognito:groups': [GROUPS.admins], token_use: 'access' };
  const wrongIssuer = await sign(adminClaims, 'https://cognito-idp.us-east-1.amazonaws.com/pool');
  const idToken = await sign({ ...adminClaims, token_use: 'id' });
  const groupsString = await sign({ ...adminClaims, 'cognito:groups': GROUPS.admins });
  const noUsername = await sign({ 'cognito:groups': [GROUPS.admins], token_use: 'access' });
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const [header, , signature] = nobody.split('.');
  const tampered = `${header}.${b64({ sub: 'x', username: 'nobody', 'cognito:groups': [GROUPS.admins], token_use: 'access', iss: LOCAL_TOKEN_ISSUER, exp: 4102444800 })}.${signature}`;
  const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...adminClaims, sub: 'x', iss: LOCAL_TOKEN_ISSUER, exp: 4102444800 })}.`;
  const badHeaders = [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    `Token ${admin}`,
    `Bearer ${admin} extra`,
    `Bearer ${admin}${admin}`,
    `${admin}`,
    'Bearer a.b.c',
    `Bearer ${'A'.repeat(100_000)}`,
    'Bearer \u0000\u0007',
    'Bearer ünïcödé.🔑.x',
    `Bearer ${expired}`,
    `Bearer ${forged}`,
    `Bearer ${wrongIssuer}`,
    `Bearer ${idToken}`,
    `Bearer ${groupsString}`,
    `Bearer ${noUsername}`,
    `Bearer ${tampered}`,
    `Bearer ${unsigned}`,
  ];
  return { admin, nobody, viewer, badHeaders, all: [admin, nobody, viewer, expired, forged, wrongIssuer, idToken, groupsString, noUsername, tampered, unsigned] };
}

/** Everything a refused request could have changed: the table, the secret files, the token's objects. */
async function snapshot(): Promise<string> {
  const items: unknown[] = [];
  let start: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page = await table.client.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const key = (item: any): string => `${JSON.stringify(item.pk ?? item.PK ?? '')}|${JSON.stringify(item.sk ?? item.SK ?? '')}|${JSON.stringify(item)}`;
  const secretFiles = readdirSync(join(secretsDir, 'secrets'))
    .sort()
    .map((name) => `${name}:${readFileSync(join(secretsDir, 'secrets', name), 'utf8')}`);
  const hsmObjects = readdirSync(tokenDirectory(softhsm.partition.tokenLabel)).filter((name) => name.endsWith('.object')).sort();
  return JSON.stringify({ items: items.map(key).sort(), secretFiles, hsmObjects });
}

/** Runs `work` over `items`, `PARALLEL` at a time. */
async function inParallel<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < items.length) {
        const index = next;
        next += 1;
        results[index] = await work(items[index]);
      }
    }),
  );
  return results;
}

beforeAll(async () => {
  const capture = (chunk: string | Uint8Array): boolean => (logged.push(String(chunk)), true);
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  table = await createTestStateTable('fuzz');
  softhsm = await createTestToken({ prefix: 'fz' });
  secretsDir = mkdtempSync(join(tmpdir(), 'fuzz-secrets-'));
  const secrets = new LocalSecretStore({ stateDir: secretsDir });
  const agent = new Pkcs11HsmAgent(pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), secrets);
  // A deployment with a mutual-TLS trust store (XKS_ALB_MTLS_VERIFY), so stores may enable mTLS.
  const config = loadConfig({ KEY_MANAGER_MODE: 'local', STATE_TABLE_NAME: table.tableName, DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT, LOCAL_STATE_DIR: secretsDir, XKS_ALB_MTLS_VERIFY: 'true' });
  // AWS KMS refuses every new store as it would when it cannot reach the proxy (fuzz bodies never reach AWS).
  const awsKms = new FakeAwsKms().failAlways('createExternalKeyStore', new ValidationError('AWS KMS CreateCustomKeyStore: XksProxyUriUnreachableException: unreachable', 'aws_param.xks_proxy_uri_endpoint'));
  setDependencies(createDependencies(config, { state: table.store, credentialUsage: table.credentialUsage, secrets, hsmAgent: agent, tokens: tokens.verifier, awsKms }));
  issuedTokens = await issueTokens();
  seeded = await seedState();
});

afterAll(async () => {
  jest.restoreAllMocks();
  if (summary) console.info(summary);
  setDependencies(undefined);
  await table?.dispose();
  rmSync(secretsDir, { recursive: true, force: true });
});

/** Hundreds of cases, each a request and a table scan: the time grows with the route table, hence a budget of its own. */
const EVERY_ROUTE_TIMEOUT_MS = 300_000;

describe('malformed requests to every management route', () => {
  it('are answered with a 4xx CCKM error body, change nothing and leak no secret into the log or a response', async () => {
    // Arrange
    const rng = new Random(SEED);
    const cases = generateCases(seeded, issuedTokens, rng);
    const before = await snapshot();
    const loggedBefore = logged.length;

    // Act
    const started = Date.now();
    const results = await inParallel(cases, (c) => (handlers.get(c.operation) as Handler)(c.event, lambdaContext(c.operation)));
    const elapsed = Date.now() - started;
    const generic = genericOnly(seeded, issuedTokens);
    summary = `fuzz: ${cases.length} requests over ${routes.length} routes in ${elapsed} ms (seed ${SEED})${generic.length > 0 ? `; only generic defects for ${generic.join(', ')} (add a valid request to validRequest())` : ''}`;
    const after = await snapshot();

    // Assert: every answer
    const failures = cases.flatMap((c, i) => {
      const why = judge(c, results[i]);
      return why ? [`${c.operation} (${c.what}): ${why}`] : [];
    });
    expect({ seed: SEED, failures: failures.slice(0, 40), failed: failures.length }).toEqual({ seed: SEED, failures: [], failed: 0 });

    // … every route, and every kind of defect, was exercised
    expect(new Set(cases.map((c) => c.operation))).toEqual(new Set(routes.map((r) => r.operation)));
    const statuses = new Set(results.map((r) => r.statusCode));
    for (const status of [200, 400, 401, 403, 404, 409]) expect(statuses).toContain(status);

    // … nothing changed, not even Object.prototype (`__proto__` keys were sent everywhere)
    expect(after).toBe(before);
    expect(({} as Record<string, unknown>).polluted ?? ({} as Record<string, unknown>).isAdmin).toBeUndefined();

    // … and no secret reached the log or a response
    const log = logged.join('');
    const refusals = logged.slice(loggedBefore).join('').split('\n').filter((line) => line.includes('"request refused"'));
    expect(refusals.length).toBeGreaterThan(cases.length / 2);
    const responses = results.map((r) => r.body).join('\n');
    const secrets = [softhsm.pin, ...xksSecrets, ...issuedTokens.all, PIN_MARKER, PLAINTEXT_MARKER];
    for (const secret of secrets) {
      expect({ inLog: log.includes(secret), secret: secret.slice(0, 12) }).toEqual({ inLog: false, secret: secret.slice(0, 12) });
      expect({ inResponses: responses.includes(secret), secret: secret.slice(0, 12) }).toEqual({ inResponses: false, secret: secret.slice(0, 12) });
    }
  }, EVERY_ROUTE_TIMEOUT_MS);
});

describe('what every GET route answers', () => {
  it('never holds a PIN, an XKS secret or a field named pin or secret_access_key', async () => {
    const gets = routes.filter((route) => route.method === 'GET' && validRequest(route, seeded, issuedTokens).known);
    const bodies: unknown[] = [];
    for (const route of gets) {
      const { params } = validRequest(route, seeded, issuedTokens);
      const response = await call(route.operation, { params: params ?? undefined });
      expect({ operation: route.operation, status: response.statusCode }).toEqual({ operation: route.operation, status: 200 });
      bodies.push(response.body);
    }
    const keysOf = (value: unknown): string[] =>
      Array.isArray(value) ? value.flatMap(keysOf) : isPlainObject(value) ? Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]) : [];
    const text = JSON.stringify(bodies);
    expect(keysOf(bodies).filter((k) => ['pin', 'secret_access_key', 'key_store_password', 'password'].includes(k))).toEqual([]);
    for (const secret of [softhsm.pin, ...xksSecrets]) expect(text.includes(secret)).toBe(false);
    // The lists did hold the objects whose secrets they leave out.
    expect(text).toContain(seeded.fullStore.credentialIds[0]);
    expect(text).toContain(seeded.partition.id);
  });
});
