/**
 * Fuzzing the proxy through the HTTPS server: thousands of malformed bodies (validly signed, so
 * they reach validation and the HSM), malformed paths and malformed authentication headers. No
 * answer may be a 5xx, and every error must be a JSON body from the spec's table. A seeded PRNG
 * keeps failures reproducible; the count is fixed, so the run time is bounded.
 */
import { XKS_ERROR_STATUS } from '../../lambdas/xks-proxy/errors';
import { decryptBody, encryptBody, healthBody, metadataBody, type EncryptOutput } from './support/bodies';
import { conformanceBackend } from './support/backends';
import { startConformanceEnv, type ConformanceEnv, type ProvisionedStore, type XksCallOptions, type XksCallResult } from './support/conformance-env';
import { signWithSmithy } from './support/signing';

const BODY_CASES = 2_000;
const PATH_CASES = 600;
const HEADER_CASES = 600;
const PARALLEL = 8;

let env: ConformanceEnv;
let store: ProvisionedStore;
let keyId: string;
let sealed: EncryptOutput;

beforeAll(async () => {
  env = await startConformanceEnv(conformanceBackend());
  store = await env.backend.createStore({ enableSuccessAuditEvent: false });
  env.defaultCredential = store.credentials[0];
  keyId = await env.backend.createKey(store.storeId);
  sealed = (await env.call(env.path(store.storeId, 'encrypt', keyId), encryptBody(Buffer.from('fuzz seed plaintext')))).json as EncryptOutput;
});

afterAll(async () => {
  await env.close();
});

/** mulberry32: small, seeded, good enough to pick mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(20260102);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
const int = (max: number): number => Math.floor(random() * max);

const STRANGE_VALUES: readonly unknown[] = [
  null, true, false, 0, -1, 1.5, 1e308, '', ' ', 'AAAA', 'AA==', '====', 'A', '\u0000', '\ud800', '💥', '<script>', 'x'.repeat(5000),
  [], [1, 2], {}, { a: { b: { c: {} } } }, 'AES_GCM', 'SHA_256', Buffer.alloc(20000).toString('base64'), Buffer.alloc(21).toString('base64'),
  Buffer.alloc(12).toString('base64'), Buffer.alloc(16).toString('base64'), '-_-_', 'QQ', 'QR==', 'Zm9v\n',
];

function validBody(operation: string): Record<string, unknown> {
  switch (operation) {
    case 'health':
      return healthBody();
    case 'metadata':
      return metadataBody();
    case 'encrypt':
      return encryptBody(Buffer.from('fuzz plaintext'), { aad: Buffer.from('fuzz aad'), cdiv: random() < 0.5 });
    default:
      return decryptBody(sealed, { aad: random() < 0.5 ? Buffer.from('fuzz aad') : undefined });
  }
}

function mutateObject(value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = JSON.parse(JSON.stringify(value));
  const mutations = 1 + int(3);
  for (let i = 0; i < mutations; i += 1) {
    const target = random() < 0.4 && typeof copy.requestMetadata === 'object' && copy.requestMetadata !== null ? (copy.requestMetadata as Record<string, unknown>) : copy;
    const keys = Object.keys(target);
    const choice = int(4);
    if (choice === 0 && keys.length > 0) delete target[pick(keys)];
    else if (choice === 1 && keys.length > 0) target[pick(keys)] = pick(STRANGE_VALUES);
    else if (choice === 2) target[pick(['plaintext', 'ciphertext', 'initializationVector', 'authenticationTag', 'ciphertextMetadata', 'additionalAuthenticatedData', 'encryptionAlgorithm', 'extra'])] = pick(STRANGE_VALUES);
    else copy.requestMetadata = pick(STRANGE_VALUES);
  }
  return copy;
}

function mutateBytes(raw: Buffer): Buffer {
  const bytes = Buffer.from(raw);
  switch (int(4)) {
    case 0:
      return bytes.subarray(0, int(bytes.length));
    case 1:
      for (let i = 0; i < 1 + int(5); i += 1) bytes[int(bytes.length)] = int(256);
      return bytes;
    case 2:
      return Buffer.concat([bytes, Buffer.from(pick(['}', ']', ',', '"', '{"a":', '\u0000']))]);
    default:
      return Buffer.from(pick(['', 'null', '[]', '"x"', '{', '{"requestMetadata":null}', 'true', '{}{}', ' '.repeat(70_000)]));
  }
}

function malformedPath(): string {
  const base = env.path(store.storeId, pick(['health', 'metadata', 'encrypt', 'decrypt'] as const), keyId);
  const segments = base.split('/');
  switch (int(6)) {
    case 0:
      segments[1 + int(segments.length - 1)] = pick(['', '..', '.', '%2e%2e', 'KMS', 'x'.repeat(300), '%00', '%ZZ', ';', '~']);
      return segments.join('/');
    case 1:
      return `${base}${pick(['/', '//', '?', '?a=b', '#frag', '/..', '%2F', '.json'])}`;
    case 2:
      return base.replace(keyId, pick(['', 'k'.repeat(129), '%20', '..', 'a%2Fb', '%C3%A9', '*']));
    case 3:
      return `/${Array.from({ length: 1 + int(8) }, () => pick(['api', 'v1', 'kms', 'xks', 'keys', 'health', store.storeId, keyId, 'x', '%41'])).join('/')}`;
    case 4:
      return base.replace(store.storeId, pick(['', 'other-store', 's'.repeat(100), store.storeId.toUpperCase()]));
    default:
      return pick(['/', '/ping/', '/PING', '/favicon.ico', `/${'a/'.repeat(200)}`, '/kms/xks/v1/health', '/api/v1/cckm/aws/xks-proxy-endpoints//kms/xks/v1/health']);
  }
}

async function malformedHeaders(): Promise<XksCallOptions> {
  const path = env.path(store.storeId, 'health');
  const body = Buffer.from(JSON.stringify(healthBody()));
  const signed = await signWithSmithy({ credential: store.credentials[0], region: store.region, host: env.host, path, body });
  const headers: Record<string, string> = { authorization: signed.authorization, 'x-amz-date': signed['x-amz-date'], 'x-amz-content-sha256': signed['x-amz-content-sha256'] };
  const name = pick(['authorization', 'x-amz-date', 'x-amz-content-sha256']);
  switch (int(5)) {
    case 0:
      headers[name] = pick(['', ' ', 'AWS4-HMAC-SHA256', 'Bearer x', 'AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=', '20261332T250000Z', 'x'.repeat(4000)]);
      break;
    case 1:
      headers[name] = headers[name].slice(0, int(headers[name].length));
      break;
    case 2:
      headers.authorization = headers.authorization.replace(/SignedHeaders=[^,]+/, `SignedHeaders=${pick(['', 'host', 'x-amz-date', 'host;x-amz-date;x-missing', 'HOST;X-AMZ-DATE', ';;'])}`);
      break;
    case 3:
      headers.authorization = headers.authorization.replace(/Credential=[^,]+/, `Credential=${pick(['', '/', 'a/b/c/d/e', `${store.credentials[0].accessKeyId}/20260101/us-east-1/kms-xks-proxy/aws4_request/extra`, '////'])}`);
      break;
    default:
      headers['x-amz-date'] = new Date(Date.now() + (random() < 0.5 ? -1 : 1) * (6 + int(10_000)) * 60_000).toISOString().replace(/[-:]|\.\d{3}/g, '');
  }
  return { unsigned: true, rawBody: body, extraHeaders: headers };
}

const ERROR_NAMES = new Set(Object.keys(XKS_ERROR_STATUS));

function expectWellFormed(result: XksCallResult, label: string): void {
  // 501 UnsupportedOperationException is the spec's answer for a value past this proxy's size limits.
  const unsupported = result.status === 501 && result.json?.errorName === 'UnsupportedOperationException';
  if ((result.status >= 500 && !unsupported) || result.status < 200) throw new Error(`${label}: status ${result.status} ${result.text.slice(0, 200)}`);
  if (result.status === 405 || result.status === 200) return;
  if (!ERROR_NAMES.has(result.json?.errorName) || XKS_ERROR_STATUS[result.json.errorName as keyof typeof XKS_ERROR_STATUS] !== result.status) {
    throw new Error(`${label}: not a spec error body: ${result.status} ${result.text.slice(0, 200)}`);
  }
}

/**
 * Makes every case first (in order, so a seed always gives the same cases), then sends them with a
 * small concurrency; returns the status counts.
 */
async function run(count: number, makeCase: (i: number) => Promise<[string, unknown, XksCallOptions]>): Promise<Map<number, number>> {
  const cases: [string, unknown, XksCallOptions][] = [];
  for (let i = 0; i < count; i += 1) cases.push(await makeCase(i));
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next;
      next += 1;
      const [path, body, options] = cases[i];
      const result = await env.call(path, body, options);
      expectWellFormed(result, `case ${i} ${path}`);
      statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return statuses;
}

describe('fuzz (never a 5xx but the size limit\'s 501, always a spec error body)', () => {
  it(`${BODY_CASES} malformed bodies, validly signed`, async () => {
    const statuses = await run(BODY_CASES, async () => {
      const operation = pick(['health', 'metadata', 'encrypt', 'decrypt'] as const);
      const path = env.path(store.storeId, operation, keyId);
      const valid = validBody(operation);
      if (random() < 0.6) return [path, mutateObject(valid), {}];
      return [path, undefined, { rawBody: mutateBytes(Buffer.from(JSON.stringify(valid))) }];
    });
    // Most mutations are rejected: the fuzzer is not just sending valid requests.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(BODY_CASES / 2);
  });

  it(`${PATH_CASES} malformed paths, signed or not`, async () => {
    const statuses = await run(PATH_CASES, async () => [malformedPath(), healthBody(), { unsigned: random() < 0.3, method: random() < 0.2 ? pick(['GET', 'PUT', 'DELETE', 'PATCH']) : 'POST' }]);
    expect(statuses.get(404) ?? 0).toBeGreaterThan(0);
  });

  it(`${HEADER_CASES} malformed authentication headers`, async () => {
    const statuses = await run(HEADER_CASES, async () => [env.path(store.storeId, 'health'), undefined, await malformedHeaders()]);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(HEADER_CASES / 2);
  });
});
