/**
 * Racing PATCHes through the handlers on DynamoDB Local: twenty concurrent updates of one key store
 * and of one AWS account container, each with its own values. Every request either succeeds or gets
 * a 409, and none is lost: the record ends as exactly one of the successful answers and its version
 * moved once per success. Half of the racers change one group of fields and half another, so a
 * write computed from a stale read would put back the other group's old values: each group's final
 * value must be one that a successful racer of that group wrote. A key store renamed by ten racers
 * holds exactly one name claim (its last name), so every other name is free again.
 */
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import type { StateStore } from '../../../lambdas/core/ports/state-store';
import { handler as getAccount } from '../../../lambdas/handlers/get-account-container';
import { handler as getKeyStore } from '../../../lambdas/handlers/get-key-store';
import { handler as updateAccount } from '../../../lambdas/handlers/update-account-container';
import { handler as updateKeyStore } from '../../../lambdas/handlers/update-key-store';
import { loadConfig } from '../../../lambdas/runtime/config';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { apiEvent, type EventOptions, type JsonResponse, lambdaContext, parseResponse, TestTokens } from '../../helpers/api-events';
import { admin, keyServices, keyStoreSetup, seedAccount } from '../../helpers/key-fixtures';
import { MemorySecretStore } from '../../helpers/softhsm';
import { createTestStateTable, type TestStateTable } from '../../helpers/state-table';
import { useLocalAdapterSet } from '../../../lambdas/local/local-adapter-set';

// Local mode's adapter set (the one KEY_MANAGER_MODE=local selects) is registered by local code only.
useLocalAdapterSet();

type Handler = (event: ReturnType<typeof apiEvent>, context: Context) => Promise<APIGatewayProxyResult>;

const RACERS = 20;
const tokens = TestTokens.create();
let table: TestStateTable;
let adminToken: string;

async function call(handler: Handler, operation: string, options: EventOptions): Promise<JsonResponse> {
  return parseResponse(await handler(apiEvent(operation, { token: adminToken, ...options }), lambdaContext(operation)));
}

/** The answers of `RACERS` concurrent PATCHes, the i-th with `body(i)`. */
async function race(handler: Handler, operation: string, id: string, body: (i: number) => unknown): Promise<JsonResponse[]> {
  return Promise.all(Array.from({ length: RACERS }, (_, i) => call(handler, operation, { params: { id }, body: body(i) })));
}

async function versionOf(state: StateStore, kind: 'keyStore' | 'account', id: string): Promise<number> {
  return (await state.get(kind, id))?.version ?? Number.NaN;
}

beforeAll(async () => {
  table = await createTestStateTable('races');
  setDependencies(createDependencies(loadConfig({ KEY_MANAGER_MODE: 'local', STATE_TABLE_NAME: table.tableName }), { state: table.store, credentialUsage: table.credentialUsage, secrets: new MemorySecretStore(), tokens: tokens.verifier }));
  adminToken = await tokens.admin('racer');
  // Their log lines are not what this suite is about.
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterAll(async () => {
  jest.restoreAllMocks();
  setDependencies(undefined);
  await table?.dispose();
});

describe('concurrent PATCHes lose no update', () => {
  it('of one key store: each succeeds or gets 409, the store ends as one success, renamed once per success, one name claim', async () => {
    // Arrange
    const setup = await keyStoreSetup(table.store);
    const store = await keyServices(table.store, new MemorySecretStore()).keyStores.create(admin(), setup.request());
    const versionBefore = await versionOf(table.store, 'keyStore', store.id);

    // Act: even racers move the endpoint (and max_credentials), odd ones rename (and set audit events).
    const answers = await race(updateKeyStore, 'UpdateKeyStore', store.id, (i) =>
      i % 2 === 0
        ? { local_hosted_params: { max_credentials: 2 + i / 2 }, aws_param: { xks_proxy_uri_endpoint: `https://xks-${i}.example.com` } }
        : { name: `racer-${i}-${store.id.slice(0, 8)}`, enable_success_audit_event: true },
    );

    // Assert
    const { successes, final } = await outcome(answers, () => call(getKeyStore, 'GetKeyStore', { params: { id: store.id } }));
    expect(await versionOf(table.store, 'keyStore', store.id)).toBe(versionBefore + successes.length);
    expectNoLostGroup(answers, final, (r) => r.aws_param.xks_proxy_uri_endpoint, (r) => r.name);
    // The name claims: exactly one, for the final name (every earlier name was released).
    const claims = await nameClaimsOf(store.id);
    expect(claims).toEqual([final.name]);
  });

  it('of one AWS account container: each succeeds or gets 409, the container ends as one success', async () => {
    // Arrange
    const account = await seedAccount(table.store);
    const versionBefore = await versionOf(table.store, 'account', account.id);

    // Act: even racers change the regions, odd ones the role.
    const answers = await race(updateAccount, 'UpdateAccountContainer', account.id, (i) =>
      i % 2 === 0
        ? { regions: ['us-east-1', 'eu-west-1', `ap-southeast-${1 + i / 2}`] }
        : { assume_role_arn: `arn:aws:iam::111122223333:role/racer-${i}`, assume_role_external_id: `external-${i}` },
    );

    // Assert
    const { successes, final } = await outcome(answers, () => call(getAccount, 'GetAccountContainer', { params: { id: account.id } }));
    expect(await versionOf(table.store, 'account', account.id)).toBe(versionBefore + successes.length);
    expectNoLostGroup(answers, final, (r) => JSON.stringify(r.regions), (r) => r.assume_role_arn);
  });
});

/** Every answer is 200 or 409, at least one is 200, and the record now reads as one of the 200s. */
async function outcome(answers: JsonResponse[], read: () => Promise<JsonResponse>): Promise<{ successes: unknown[]; final: any }> {
  expect(answers.map((a) => a.statusCode).filter((s) => s !== 200 && s !== 409)).toEqual([]);
  const successes = answers.filter((a) => a.statusCode === 200).map((a) => a.body);
  expect(successes.length).toBeGreaterThan(0);
  const final = (await read()).body;
  expect(successes).toContainEqual(final);
  return { successes, final };
}

/**
 * Racer i (even: group one, odd: group two) succeeded with answer i. Each group's final value must
 * be the value one of that group's successful racers wrote, never the value from before the race
 * or from the other group's stale read.
 */
function expectNoLostGroup(answers: JsonResponse[], final: any, groupOne: (r: any) => unknown, groupTwo: (r: any) => unknown): void {
  for (const [parity, field] of [[0, groupOne], [1, groupTwo]] as const) {
    const written = answers.flatMap((a, i) => (i % 2 === parity && a.statusCode === 200 ? [field(a.body)] : []));
    if (written.length > 0) expect(written).toContainEqual(field(final));
  }
}

/** Names claimed by `ownerId` (the name-claim items of the state table). */
async function nameClaimsOf(ownerId: string): Promise<string[]> {
  const names: string[] = [];
  let start: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page = await table.client.send(
      new ScanCommand({
        TableName: table.tableName,
        ConsistentRead: true,
        FilterExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': { S: ownerId } },
        ExclusiveStartKey: start,
      }),
    );
    names.push(...(page.Items ?? []).map((item) => item.name?.S ?? ''));
    start = page.LastEvaluatedKey;
  } while (start);
  return names.sort();
}
