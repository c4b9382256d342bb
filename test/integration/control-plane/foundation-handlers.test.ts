/**
 * The account container, HSM partition and HSM source key handlers end to end in one process:
 * API Gateway events with local bearer tokens → apiHandler → services → DynamoDB Local, the local
 * secret store and the in-process HSM agent over SoftHSM2.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { LocalSecretStore } from '../../../lambdas/local/adapters/local-secret-store';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import { loadConfig } from '../../../lambdas/runtime/config';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { handler as createAccount } from '../../../lambdas/handlers/create-account-container';
import { handler as deleteAccount } from '../../../lambdas/handlers/delete-account-container';
import { handler as getAccount } from '../../../lambdas/handlers/get-account-container';
import { handler as listAccounts } from '../../../lambdas/handlers/list-account-containers';
import { handler as updateAccount } from '../../../lambdas/handlers/update-account-container';
import { handler as updateAcls } from '../../../lambdas/handlers/update-account-container-acls';
import { handler as createPartition } from '../../../lambdas/handlers/create-hsm-partition';
import { handler as deletePartition } from '../../../lambdas/handlers/delete-hsm-partition';
import { handler as getPartition } from '../../../lambdas/handlers/get-hsm-partition';
import { handler as listPartitions } from '../../../lambdas/handlers/list-hsm-partitions';
import { handler as testPartition } from '../../../lambdas/handlers/test-hsm-partition';
import { handler as updatePartition } from '../../../lambdas/handlers/update-hsm-partition';
import { handler as createHsmKey } from '../../../lambdas/handlers/create-hsm-key';
import { handler as deleteHsmKey } from '../../../lambdas/handlers/delete-hsm-key';
import { handler as getHsmKey } from '../../../lambdas/handlers/get-hsm-key';
import { handler as listHsmKeys } from '../../../lambdas/handlers/list-hsm-keys';
import { handler as createKeyStore } from '../../../lambdas/handlers/create-key-store';
import { handler as deleteKeyStore } from '../../../lambdas/handlers/delete-key-store';
import { apiEvent, lambdaContext, parseResponse, TestTokens, type EventOptions, type JsonResponse } from '../../helpers/api-events';
import { createTestToken, type TestToken } from '../../helpers/softhsm';
import { createTestStateTable, type TestStateTable } from '../../helpers/state-table';
import { useLocalAdapterSet } from '../../../lambdas/local/local-adapter-set';

// Local mode's adapter set (the one KEY_MANAGER_MODE=local selects) is registered by local code only.
useLocalAdapterSet();

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const tokens = TestTokens.create();
let table: TestStateTable;
let softhsm: TestToken;
let agent: Pkcs11HsmAgent;
let secretsDir: string;
let adminToken: string;
let output: string[] = [];
const responses: string[] = [];

async function call(handler: Handler, operation: string, options: EventOptions = {}): Promise<JsonResponse> {
  const result = await handler(apiEvent(operation, { token: adminToken, ...options }), lambdaContext(operation));
  responses.push(result.body);
  return parseResponse(result);
}

/** Every entity in the table, to show that refused requests change nothing. */
async function snapshot(): Promise<unknown[]> {
  const kinds = ['account', 'partition', 'hsmKey', 'keyStore'] as const;
  return (await Promise.all(kinds.map((kind) => table.store.list(kind)))).flat().sort((a, b) => a.id.localeCompare(b.id));
}

const account = (name: string, overrides: Record<string, unknown> = {}) => ({ name, account_id: '111122223333', regions: ['us-east-1', 'eu-west-1'], ...overrides });
const partitionBody = (name: string, overrides: Record<string, unknown> = {}) => ({ name, hsm_type: 'softhsm', token_label: softhsm.partition.tokenLabel, pin: softhsm.pin, ...overrides });
const HEALTH_CHECK = ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE', 'CKA_PRIVATE'];

beforeAll(async () => {
  table = await createTestStateTable('control-plane');
  softhsm = await createTestToken({ prefix: 'cp' });
  secretsDir = mkdtempSync(join(tmpdir(), 'cp-secrets-'));
  const secrets = new LocalSecretStore({ stateDir: secretsDir });
  agent = new Pkcs11HsmAgent(pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), secrets);
  const config = loadConfig({ KEY_MANAGER_MODE: 'local', STATE_TABLE_NAME: table.tableName, DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT, LOCAL_STATE_DIR: secretsDir });
  setDependencies(createDependencies(config, { state: table.store, credentialUsage: table.credentialUsage, secrets, hsmAgent: agent, tokens: tokens.verifier }));
  adminToken = await tokens.admin('root');
});

beforeEach(() => {
  const capture = (chunk: string | Uint8Array): boolean => (output.push(String(chunk)), true);
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
});

afterEach(() => jest.restoreAllMocks());

afterAll(async () => {
  setDependencies(undefined);
  await table?.dispose();
  rmSync(secretsDir, { recursive: true, force: true });
});

describe('HSM partitions and source keys over SoftHSM2', () => {
  it('registers a partition, tests it, generates keys with the attributes read back, and deletes in order', async () => {
    const partition = await call(createPartition, 'CreateHsmPartition', { body: partitionBody('softhsm-main', { description: 'test token' }) });
    expect(partition.statusCode).toBe(201);
    expect(partition.body).toMatchObject({ name: 'softhsm-main', hsm_type: 'softhsm', token_label: softhsm.partition.tokenLabel, description: 'test token' });
    expect(partition.body).not.toHaveProperty('pin');
    const partitionId = partition.body.id as string;

    expect(await call(testPartition, 'TestHsmPartition', { params: { id: partitionId } })).toEqual({
      statusCode: 200,
      body: { id: partitionId, name: 'softhsm-main', ready: true, message: 'ready' },
    });

    const key = await call(createHsmKey, 'CreateHsmKey', { body: { partition_id: partitionId, label: 'health-check', mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes: HEALTH_CHECK } });
    expect(key.statusCode).toBe(201);
    expect(key.body).toMatchObject({ status: 'AVAILABLE', key_type: 'AES', size: 256, label: 'health-check', partition_label: softhsm.partition.tokenLabel });
    // What the HSM itself says about the object, read independently of the control plane.
    const inHsm = await agent.describeKey({ partition: { ...softhsm.partition, partitionId, pinSecretName: `xks-key-manager/hsm-pin/${partitionId}` }, objectId: key.body.object_id });
    expect(inHsm?.attributes).toEqual(key.body.attributes);
    expect(key.body.attributes).toMatchObject({ CKA_ENCRYPT: true, CKA_UNWRAP: true, CKA_SENSITIVE: true, CKA_EXTRACTABLE: false, CKA_SIGN: false, CKA_DERIVE: false });

    expect(await call(getHsmKey, 'GetHsmKey', { params: { id: key.body.id } })).toEqual({ statusCode: 200, body: key.body });
    expect((await call(listHsmKeys, 'ListHsmKeys', { query: { partition_id: partitionId } })).body).toMatchObject({ total: 1, resources: [key.body] });

    expect((await call(deletePartition, 'DeleteHsmPartition', { params: { id: partitionId } })).statusCode).toBe(409);
    expect((await call(deleteHsmKey, 'DeleteHsmKey', { params: { id: key.body.id } })).statusCode).toBe(204);
    expect(await agent.describeKey({ partition: { ...softhsm.partition, partitionId, pinSecretName: `xks-key-manager/hsm-pin/${partitionId}` }, objectId: key.body.object_id })).toBeUndefined();
    expect((await call(deletePartition, 'DeleteHsmPartition', { params: { id: partitionId } })).statusCode).toBe(204);
    expect((await call(getPartition, 'GetHsmPartition', { params: { id: partitionId } })).statusCode).toBe(404);
  });

  it('reports a wrong PIN as not ready, and ready again after the PIN is patched', async () => {
    const partition = await call(createPartition, 'CreateHsmPartition', { body: partitionBody('softhsm-wrong-pin', { pin: 'not-the-pin' }) });
    const id = partition.body.id as string;

    const failed = await call(testPartition, 'TestHsmPartition', { params: { id } });
    expect(failed.body).toMatchObject({ ready: false, message: 'CKR_PIN_INCORRECT' });

    expect((await call(updatePartition, 'UpdateHsmPartition', { params: { id }, body: { pin: softhsm.pin } })).statusCode).toBe(200);
    expect((await call(testPartition, 'TestHsmPartition', { params: { id } })).body).toMatchObject({ ready: true });
    await call(deletePartition, 'DeleteHsmPartition', { params: { id } });
  });
});

describe('concurrency', () => {
  it.each<[string, Handler, string, (name: string) => unknown]>([
    ['account containers', createAccount, 'CreateAccountContainer', (name) => account(name)],
    ['HSM partitions', createPartition, 'CreateHsmPartition', (name) => partitionBody(name)],
  ])('answers two concurrent creates of one name of %s with one 201 and one 409', async (_, handler, operation, body) => {
    const name = `same-name-${operation}`;
    const statuses = (await Promise.all([call(handler, operation, { body: body(name) }), call(handler, operation, { body: body(name) })])).map((r) => r.statusCode);
    expect(statuses.sort()).toEqual([201, 409]);
  });
});

describe('authorization', () => {
  it('gives users only what the ACLs grant: 403 otherwise, whether or not the resource exists', async () => {
    const prod = (await call(createAccount, 'CreateAccountContainer', { body: account('acl-prod') })).body;
    const dev = (await call(createAccount, 'CreateAccountContainer', { body: account('acl-dev') })).body;
    await call(updateAcls, 'UpdateAccountContainerAcls', { params: { id: prod.id }, body: { acls: [{ user_id: 'alice', permit: true, actions: ['viewkeystore'] }] } });
    const alice = await tokens.user('alice');

    expect((await call(createAccount, 'CreateAccountContainer', { token: alice, body: account('by-alice') })).statusCode).toBe(403);
    expect((await call(getAccount, 'GetAccountContainer', { token: alice, params: { id: prod.id } })).statusCode).toBe(200);
    expect((await call(getAccount, 'GetAccountContainer', { token: alice, params: { id: dev.id } })).statusCode).toBe(403);
    expect((await call(getAccount, 'GetAccountContainer', { token: alice, params: { id: 'no-such-id' } })).statusCode).toBe(403);
    expect((await call(listAccounts, 'ListAccountContainers', { token: alice })).body.resources.map((r: { name: string }) => r.name)).toEqual(['acl-prod']);
    expect((await call(listPartitions, 'ListHsmPartitions', { token: alice })).statusCode).toBe(403);

    // An ACL route: alice may view key stores in prod, not add one.
    const created = await call(createKeyStore, 'CreateKeyStore', {
      token: alice,
      body: { name: 'alice-store', kms: prod.id, region: 'us-east-1', local_hosted_params: { partition_id: 'p', health_check_key_id: 'k' }, aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' } },
    });
    expect(created.statusCode).toBe(403);
  });

  it('answers 401 without a token', async () => {
    expect((await call(listAccounts, 'ListAccountContainers', { token: '' })).statusCode).toBe(401);
  });
});

describe('bad input', () => {
  it.each<[string, Handler, string, EventOptions, string]>([
    ['a malformed body', createAccount, 'CreateAccountContainer', { body: '{"name":' }, 'The request body is not valid JSON'],
    ['a bad account id', createAccount, 'CreateAccountContainer', { body: account('bad-1', { account_id: '12' }) }, 'account_id: must match pattern "^\\d{12}$"'],
    ['a bad region', createAccount, 'CreateAccountContainer', { body: account('bad-2', { regions: ['us-east-1', 'moon-1'] }) }, 'regions[1]: "moon-1" is not an AWS region name (e.g. us-east-1)'],
    ['a user ARN as role', createAccount, 'CreateAccountContainer', { body: account('bad-3', { assume_role_arn: 'arn:aws:iam::111122223333:user/x' }) }, 'assume_role_arn: must be an IAM role ARN like arn:aws:iam::111122223333:role/KeyManagerAccess'],
    ['an unknown HSM type', createPartition, 'CreateHsmPartition', { body: { name: 'p', hsm_type: 'nshield', token_label: 't', pin: '1' } }, 'hsm_type: must be one of "luna", "cloudhsm", "softhsm"'],
    ['a missing PIN', createPartition, 'CreateHsmPartition', { body: { name: 'p', hsm_type: 'softhsm', token_label: 't' } }, 'pin: is required'],
    ['an unknown attribute', createHsmKey, 'CreateHsmKey', { body: { partition_id: 'x', label: 'l', attributes: ['CKA_MAGIC'] } }, 'attributes[0]: must be one of "CKA_ENCRYPT", "CKA_DECRYPT", "CKA_WRAP", "CKA_UNWRAP", "CKA_SIGN", "CKA_VERIFY", "CKA_DERIVE", "CKA_SENSITIVE", "CKA_EXTRACTABLE", "CKA_MODIFIABLE", "CKA_TOKEN", "CKA_PRIVATE"'],
    ['an unknown partition', createHsmKey, 'CreateHsmKey', { body: { partition_id: 'nope', label: 'l', attributes: [] } }, 'partition_id: no HSM partition has the id "nope"'],
    ['a bad sort field', listAccounts, 'ListAccountContainers', { query: { sort: 'colour' } }, 'sort: cannot sort by "colour"; sortable fields: id, name, account_id, createdAt, updatedAt'],
  ])('answers %s with a 400 naming the field and changes nothing', async (_, handler, operation, options, message) => {
    const before = await snapshot();
    const response = await call(handler, operation, options);
    expect(response).toEqual({ statusCode: 400, body: { code: 400, codeDesc: `NCERRInvalidParamValue: ${message}`, message } });
    expect(await snapshot()).toEqual(before);
  });

  it('answers an ACL update with an unknown action with a 400 and keeps the ACLs', async () => {
    const { id } = (await call(createAccount, 'CreateAccountContainer', { body: account('acl-bad') })).body;
    const response = await call(updateAcls, 'UpdateAccountContainerAcls', { params: { id }, body: { acls: [{ group: 'g', permit: true, actions: ['keystoreadd', 'teleport'] }] } });
    expect(response.statusCode).toBe(400);
    expect(response.body.message).toMatch(/^acls\[0\]\.actions\[1\]: "teleport" is not an ACL action/);
    expect((await call(getAccount, 'GetAccountContainer', { params: { id } })).body.acls).toEqual([]);
  });
});

describe('references between areas (counters kept by the key store service)', () => {
  it('refuses to delete an account, a region or an HSM key while a key store uses it', async () => {
    const acc = (await call(createAccount, 'CreateAccountContainer', { body: account('used-account') })).body;
    const partition = (await call(createPartition, 'CreateHsmPartition', { body: partitionBody('used-partition') })).body;
    const key = (await call(createHsmKey, 'CreateHsmKey', { body: { partition_id: partition.id, label: 'used-hc', attributes: HEALTH_CHECK } })).body;
    const store = await call(createKeyStore, 'CreateKeyStore', {
      body: {
        name: 'uses-everything',
        kms: acc.id,
        region: 'eu-west-1',
        local_hosted_params: { partition_id: partition.id, health_check_key_id: key.id, max_credentials: 2 },
        aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
      },
    });
    expect(store.statusCode).toBe(201);

    expect((await call(deleteAccount, 'DeleteAccountContainer', { params: { id: acc.id } })).statusCode).toBe(409);
    expect((await call(updateAccount, 'UpdateAccountContainer', { params: { id: acc.id }, body: { regions: ['us-east-1'] } })).statusCode).toBe(409);
    expect((await call(deleteHsmKey, 'DeleteHsmKey', { params: { id: key.id } })).statusCode).toBe(409);

    expect((await call(deleteKeyStore, 'DeleteKeyStore', { params: { id: store.body.id } })).statusCode).toBe(204);
    expect((await call(updateAccount, 'UpdateAccountContainer', { params: { id: acc.id }, body: { regions: ['us-east-1'] } })).statusCode).toBe(200);
    expect((await call(deleteHsmKey, 'DeleteHsmKey', { params: { id: key.id } })).statusCode).toBe(204);
    expect((await call(deleteAccount, 'DeleteAccountContainer', { params: { id: acc.id } })).statusCode).toBe(204);
    expect((await call(deletePartition, 'DeleteHsmPartition', { params: { id: partition.id } })).statusCode).toBe(204);
  });
});

describe('secrecy', () => {
  it('never shows the PIN in a response, a log line, the state table or the secret files', async () => {
    const { Items = [] } = await table.client.send(new ScanCommand({ TableName: table.tableName }));
    const files = readdirSync(join(secretsDir, 'secrets')).map((f) => readFileSync(join(secretsDir, 'secrets', f), 'utf8'));
    expect(output.length).toBeGreaterThan(0);
    for (const place of [responses.join('\n'), output.join(''), JSON.stringify(Items), files.join('\n')]) {
      expect(place).not.toContain(softhsm.pin);
    }
  });
});
