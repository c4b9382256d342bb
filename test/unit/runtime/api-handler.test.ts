/**
 * apiHandler around real routes of the route table, with a fake operation: authentication,
 * admin-only routes, validation, status codes, the error body, and what reaches the log.
 */
import { apiHandler, type ApiRequest } from '../../../lambdas/runtime/api-handler';
import { loadConfig } from '../../../lambdas/runtime/config';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { ConflictError } from '../../../lambdas/core/errors';
import { HsmError } from '../../../lambdas/core/ports/hsm';
import { MemoryStateStore } from '../../helpers/memory-state-store';
import { apiEvent, lambdaContext, parseResponse, TestTokens, type EventOptions } from '../../helpers/api-events';
import { useLocalAdapterSet } from '../../../lambdas/local/local-adapter-set';

// Local mode's adapter set (the one KEY_MANAGER_MODE=local selects) is registered by local code only.
useLocalAdapterSet();

const tokens = TestTokens.create();
let logged: string[];
let seen: ApiRequest[];
let outcome: () => unknown;

const handlers = {
  CreateHsmPartition: apiHandler('CreateHsmPartition', (req) => (seen.push(req), outcome())),
  DeleteHsmPartition: apiHandler('DeleteHsmPartition', (req) => (seen.push(req), outcome())),
  ListKeyStores: apiHandler('ListKeyStores', (req) => (seen.push(req), outcome())),
  GetKeyStoreHealth: apiHandler('GetKeyStoreHealth', (req) => (seen.push(req), outcome())),
  UpdateKeyStore: apiHandler('UpdateKeyStore', (req) => (seen.push(req), outcome())),
};

async function call(operation: keyof typeof handlers, options: EventOptions) {
  return parseResponse(await handlers[operation](apiEvent(operation, options), lambdaContext()));
}

const partition = { name: 'p1', hsm_type: 'softhsm', token_label: 'token-1', pin: 'PIN-that-must-never-be-logged' };

beforeAll(() => {
  setDependencies(
    createDependencies(loadConfig({ KEY_MANAGER_MODE: 'local', STATE_TABLE_NAME: 'unused' }), { tokens: tokens.verifier, state: new MemoryStateStore() }),
  );
});

afterAll(() => setDependencies(undefined));

beforeEach(() => {
  logged = [];
  seen = [];
  outcome = () => ({ id: 'p-1' });
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true));
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true));
});

afterEach(() => jest.restoreAllMocks());

describe('authentication', () => {
  it('answers 401 without a token, with a malformed header, and with a forged token', async () => {
    const forged = (await tokens.admin()).slice(0, -4) + 'AAAA';
    for (const options of [{}, { headers: { Authorization: 'Basic abc' } }, { token: forged }]) {
      const response = await call('CreateHsmPartition', { ...options, body: partition });
      expect(response).toEqual({ statusCode: 401, body: expect.objectContaining({ code: 401, codeDesc: expect.stringMatching(/^NCERRUnauthorizedAccess: /) }) });
    }
    expect(seen).toEqual([]);
  });

  it('answers 403 to a user on an admin-only route, before reading the body', async () => {
    const response = await call('CreateHsmPartition', { token: await tokens.user('alice'), body: 'not json' });
    expect(response.statusCode).toBe(403);
    expect(seen).toEqual([]);
  });

  it('passes the principal and the route ACL action to the operation', async () => {
    outcome = () => ({ skip: 0, limit: 10, total: 0, resources: [] });
    const response = await call('ListKeyStores', { token: await tokens.user('alice', ['team-a']), query: { limit: '5' } });
    expect(response.statusCode).toBe(200);
    expect(seen[0].access).toEqual({ principal: expect.objectContaining({ username: 'alice', groups: ['cckm-users', 'team-a'], isAdmin: false }), action: 'viewkeystore' });
    expect(seen[0].query).toEqual({ limit: '5' });
  });

  it('lets anyone call a public route', async () => {
    const response = await call('GetKeyStoreHealth', { params: { id: 'ks-1' } });
    expect(response.statusCode).toBe(200);
    expect(seen[0].principal.isAdmin).toBe(false);
    expect(seen[0].params).toEqual({ id: 'ks-1' });
  });
});

describe('validation', () => {
  it('answers 400 to malformed JSON', async () => {
    const response = await call('CreateHsmPartition', { token: await tokens.admin(), body: '{"name": ' });
    expect(response).toEqual({ statusCode: 400, body: expect.objectContaining({ message: 'The request body is not valid JSON' }) });
    expect(seen).toEqual([]);
  });

  it.each([
    [{ ...partition, hsm_type: 'thales' }, 'hsm_type: must be one of "luna", "cloudhsm", "softhsm"'],
    [{ ...partition, pkcs11_call_mode: 'threads' }, 'pkcs11_call_mode: must be one of "inline", "worker-thread"'],
    [{ ...partition, token_label: undefined }, 'token_label: is required'],
    [{ ...partition, colour: 'red' }, 'colour: is not a known field'],
    [{ ...partition, token_label: 'x'.repeat(33) }, 'token_label: must NOT have more than 32 characters'],
  ])('answers 400 naming the field (%#)', async (body, message) => {
    const response = await call('CreateHsmPartition', { token: await tokens.admin(), body });
    expect(response).toEqual({ statusCode: 400, body: { code: 400, codeDesc: `NCERRInvalidParamValue: ${message}`, message } });
    expect(seen).toEqual([]);
  });

  it('answers 400 to an unknown query parameter', async () => {
    const response = await call('ListKeyStores', { token: await tokens.admin(), query: { colour: 'red' } });
    expect(response.body.message).toBe('colour: is not a known query parameter');
  });

  it('names an unknown field in at most 64 characters, however long the name sent', async () => {
    const response = await call('CreateHsmPartition', { token: await tokens.admin(), body: { ...partition, ['k'.repeat(100_000)]: 1 } });
    expect(response).toEqual({ statusCode: 400, body: expect.objectContaining({ message: `${'k'.repeat(64)}…: is not a known field` }) });
  });

  it('answers 400 to a repeated query parameter (API Gateway would keep only the last value)', async () => {
    const event = { ...apiEvent('ListKeyStores', { token: await tokens.admin(), query: { limit: '7' } }), multiValueQueryStringParameters: { limit: ['5', '7'] } };
    const response = parseResponse(await handlers.ListKeyStores(event, lambdaContext()));
    expect(response).toEqual({ statusCode: 400, body: expect.objectContaining({ message: 'limit: is given more than once; give each query parameter once' }) });
    expect(seen).toEqual([]);
  });

  it.each([
    ['a 100 KB id', { id: 'x'.repeat(100_000) }, 'id: must NOT have more than 256 characters'],
    ['an empty id', { id: '' }, 'id: must NOT have fewer than 1 characters'],
    ['a NUL in the id', { id: 'p\u00001' }, expect.stringMatching(/^id: must match pattern/)],
    ['no id at all', undefined, 'id: is required'],
  ])('answers 400 to %s in the path, before the operation', async (_, params, message) => {
    const response = await call('DeleteHsmPartition', { token: await tokens.admin(), params });
    expect(response).toEqual({ statusCode: 400, body: expect.objectContaining({ code: 400, message }) });
    expect(seen).toEqual([]);
  });

  it('answers 400 to an empty PATCH of a key store (nothing to change is not a change)', async () => {
    const response = await call('UpdateKeyStore', { token: await tokens.admin(), params: { id: 'ks-1' }, body: {} });
    expect(response).toEqual({ statusCode: 400, body: expect.objectContaining({ message: 'The request body must NOT have fewer than 1 properties' }) });
    expect(seen).toEqual([]);
  });
});

describe('responses', () => {
  it("answers with the route's success status and the operation's result", async () => {
    const response = await call('CreateHsmPartition', { token: await tokens.admin(), body: partition });
    expect(response).toEqual({ statusCode: 201, body: { id: 'p-1' } });
    expect(seen[0].body).toEqual(partition);
  });

  it('answers 204 with an empty body', async () => {
    outcome = () => undefined;
    const result = await handlers.DeleteHsmPartition(apiEvent('DeleteHsmPartition', { token: await tokens.admin(), params: { id: 'p-1' } }), lambdaContext());
    expect(result).toEqual({ statusCode: 204, headers: {}, body: '' });
  });

  it('turns a KeyManagerError into its status and CCKM body', async () => {
    outcome = () => {
      throw new ConflictError('A partition named "p1" already exists');
    };
    const response = await call('CreateHsmPartition', { token: await tokens.admin(), body: partition });
    expect(response).toEqual({
      statusCode: 409,
      body: { code: 409, codeDesc: 'NCERRConflict: A partition named "p1" already exists', message: 'A partition named "p1" already exists' },
    });
  });

  it('answers 502 to an HSM failure no service translated', async () => {
    outcome = () => {
      throw new HsmError('TOKEN_NOT_FOUND', undefined, 'no token labelled token-1');
    };
    const response = await call('CreateHsmPartition', { token: await tokens.admin(), body: partition });
    expect(response.statusCode).toBe(502);
    expect(response.body.message).toBe('The HSM could not complete the operation (TOKEN_NOT_FOUND)');
  });

  it('answers anything else with a bare 500 and logs the detail', async () => {
    outcome = () => {
      throw new TypeError('secret detail of a bug');
    };
    const response = await call('CreateHsmPartition', { token: await tokens.admin(), body: partition });
    expect(response).toEqual({ statusCode: 500, body: { code: 500, codeDesc: 'NCERRInternalServerError: Internal error', message: 'Internal error' } });
    expect(logged.join('')).toContain('secret detail of a bug');
  });
});

describe('logging', () => {
  it('logs the operation and the user, never the body, the PIN or the token', async () => {
    const token = await tokens.admin('root');
    await call('CreateHsmPartition', { token, body: partition });
    outcome = () => {
      throw new Error('boom');
    };
    await call('CreateHsmPartition', { token, body: partition });

    const lines = logged.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual(
      expect.arrayContaining([expect.objectContaining({ message: 'request done', operation: 'CreateHsmPartition', user: 'root', statusCode: 201 })]),
    );
    const all = logged.join('');
    expect(all).not.toContain(partition.pin);
    expect(all).not.toContain(token);
  });
});
