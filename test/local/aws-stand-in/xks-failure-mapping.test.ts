/**
 * Every proxy failure of the XKS spec's table "KMS exceptions for XKS proxy failures", answered by
 * a scripted proxy over HTTP, and what the stand-in's KMS makes of it for each calling operation:
 * Create/UpdateCustomKeyStore, CreateKey, the cryptographic operations, and the
 * ConnectionErrorCode of a connection attempt. (The real proxy is exercised in
 * external-key-stores.test.ts.)
 */
import {
  type KMSClient,
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  CreateKeyCommand,
  DescribeCustomKeyStoresCommand,
  DisconnectCustomKeyStoreCommand,
  EncryptCommand,
} from '@aws-sdk/client-kms';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { customKeyStoresOf } from '../../../lambdas/local/aws-stand-in/kms/custom-key-store-record';
import { failureOf, standInFixture, type StandInFixture } from './stand-in-fixture';

type Answer = { status: number; body: unknown } | 'malformed';
const HEALTHY: Answer = { status: 200, body: { xksProxyFleetSize: 1, xksProxyVendor: 'test', xksProxyModel: 'test', ekmVendor: 'test', ekmFleetDetails: [{ id: 'h1', model: 'm', healthStatus: 'ACTIVE' }] } };
const METADATA: Answer = { status: 200, body: { keySpec: 'AES_256', keyUsage: ['ENCRYPT', 'DECRYPT'], keyStatus: 'ENABLED' } };

const answers: Record<'health' | 'metadata' | 'encrypt', Answer> = { health: HEALTHY, metadata: METADATA, encrypt: HEALTHY };
/** GetHealthStatus requests received, by URI path. */
const healthCalls = new Map<string, number>();
let proxy: Server;
let aws: StandInFixture;
let names = 0;
/** Each test in a region of its own: an account and region may hold only 10 custom key stores. */
let kms: KMSClient;

beforeAll(async () => {
  proxy = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const operation = request.url?.endsWith('/health') ? 'health' : request.url?.endsWith('/metadata') ? 'metadata' : 'encrypt';
      if (operation === 'health') healthCalls.set(request.url as string, (healthCalls.get(request.url as string) ?? 0) + 1);
      const answer = answers[operation];
      if (answer === 'malformed') response.writeHead(200, { 'content-type': 'text/plain' }).end('not json');
      else response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  aws = await standInFixture({ xksProxyBaseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, xksTimeoutMs: 2_000 });
});

afterAll(async () => {
  await aws.stop();
  proxy.closeAllConnections();
  proxy.close();
});

beforeEach(() => {
  names += 1;
  kms = aws.kmsFor(aws.standIn, `test-region-${names}`);
  answers.health = HEALTHY;
  answers.metadata = METADATA;
  answers.encrypt = HEALTHY;
});

const error = (errorName: string, status: number): Answer => ({ status, body: { errorName, errorMessage: 'scripted' } });

function createStore() {
  names += 1;
  return kms.send(
    new CreateCustomKeyStoreCommand({
      CustomKeyStoreName: `scripted-${names}`,
      CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
      XksProxyUriEndpoint: 'https://scripted.example.com',
      XksProxyUriPath: `/p${names}/kms/xks/v1`,
      XksProxyConnectivity: 'PUBLIC_ENDPOINT',
      XksProxyAuthenticationCredential: { AccessKeyId: 'ABCDEFGHIJKLMNOPQRST', RawSecretAccessKey: 'a'.repeat(43) },
    }),
  );
}

async function connected(): Promise<string> {
  const { CustomKeyStoreId } = await createStore();
  await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId }));
  await settled(CustomKeyStoreId!);
  return CustomKeyStoreId!;
}

async function settled(id: string) {
  for (;;) {
    const store = (await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores![0];
    if (store.ConnectionState !== 'CONNECTING' && store.ConnectionState !== 'DISCONNECTING') return store;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// [errorName, HTTP status, Create/UpdateCustomKeyStore, CreateKey, ConnectionErrorCode]
const TABLE: [string, number, string, string, string][] = [
  ['ValidationException', 400, 'XksProxyInvalidResponseException', 'CustomKeyStoreInvalidStateException', 'XKS_PROXY_INVALID_RESPONSE'],
  ['InvalidStateException', 400, 'XksProxyInvalidResponseException', 'XksKeyInvalidConfigurationException', 'XKS_PROXY_INVALID_RESPONSE'],
  ['InvalidKeyUsageException', 400, 'XksProxyInvalidResponseException', 'XksKeyInvalidConfigurationException', 'XKS_PROXY_INVALID_RESPONSE'],
  ['AuthenticationFailedException', 401, 'XksProxyIncorrectAuthenticationCredentialException', 'CustomKeyStoreInvalidStateException', 'INVALID_CREDENTIALS'],
  ['AccessDeniedException', 403, 'XksProxyInvalidConfigurationException', 'KMSInvalidStateException', 'XKS_PROXY_ACCESS_DENIED'],
  ['KeyNotFoundException', 404, 'XksProxyInvalidResponseException', 'XksKeyNotFoundException', 'XKS_PROXY_INVALID_RESPONSE'],
  ['InvalidUriPathException', 404, 'XksProxyInvalidConfigurationException', 'CustomKeyStoreInvalidStateException', 'XKS_PROXY_INVALID_CONFIGURATION'],
  ['UnsupportedOperationException', 501, 'XksProxyInvalidResponseException', 'XksKeyInvalidResponseException', 'XKS_PROXY_INVALID_RESPONSE'],
  ['DependencyTimeoutException', 503, 'XksProxyUriUnreachableException', 'CustomKeyStoreInvalidStateException', 'XKS_PROXY_TIMED_OUT'],
  ['ThrottlingException', 429, 'XksProxyUriUnreachableException', 'CustomKeyStoreInvalidStateException', 'XKS_PROXY_TIMED_OUT'],
  ['InternalException', 500, 'XksProxyInvalidResponseException', 'CustomKeyStoreInvalidStateException', 'XKS_PROXY_INVALID_RESPONSE'],
];

describe.each(TABLE)('proxy answers %s', (errorName, status, storeException, createKeyException, connectionErrorCode) => {
  it(`CreateCustomKeyStore: ${storeException}; nothing created`, async () => {
    const before = (await kms.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores!.length;
    answers.health = error(errorName, status);
    expect(await failureOf(createStore())).toMatchObject({ name: storeException });
    expect((await kms.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores).toHaveLength(before);
  });

  it(`ConnectCustomKeyStore: FAILED with ${connectionErrorCode}`, async () => {
    const { CustomKeyStoreId } = await createStore();
    answers.health = error(errorName, status);
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId }));
    expect(await settled(CustomKeyStoreId!)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: connectionErrorCode });
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId }));
  });

  it(`CreateKey: ${createKeyException}; Encrypt: KMSInvalidStateException`, async () => {
    const storeId = await connected();
    answers.metadata = error(errorName, status);
    expect(await failureOf(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId, XksKeyId: `k-${names}` })))).toMatchObject({
      name: createKeyException,
    });
    answers.metadata = METADATA;
    const key = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId, XksKeyId: `k-${names}` }))).KeyMetadata!;
    answers.encrypt = error(errorName, status);
    expect(await failureOf(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).toMatchObject({ name: 'KMSInvalidStateException' });
  });
});

describe('answers that are not the spec`s', () => {
  it('a body that is not JSON: XksProxyInvalidResponseException / XKS_PROXY_INVALID_RESPONSE / CustomKeyStoreInvalidStateException', async () => {
    answers.health = 'malformed';
    expect(await failureOf(createStore())).toMatchObject({ name: 'XksProxyInvalidResponseException' });
    answers.health = HEALTHY;
    const storeId = await connected();
    answers.metadata = 'malformed';
    expect(await failureOf(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId, XksKeyId: 'bad-body' })))).toMatchObject({
      name: 'CustomKeyStoreInvalidStateException',
    });
  });

  it('every external key manager UNAVAILABLE: XksProxyUriUnreachableException, and XKS_PROXY_NOT_REACHABLE on connect', async () => {
    answers.health = { status: 200, body: { ekmFleetDetails: [{ id: 'h1', model: 'm', healthStatus: 'UNAVAILABLE' }] } };
    expect(await failureOf(createStore())).toMatchObject({ name: 'XksProxyUriUnreachableException' });
    answers.health = HEALTHY;
    const { CustomKeyStoreId } = await createStore();
    answers.health = { status: 200, body: { ekmFleetDetails: [{ id: 'h1', model: 'm', healthStatus: 'UNAVAILABLE' }] } };
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId }));
    expect(await settled(CustomKeyStoreId!)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'XKS_PROXY_NOT_REACHABLE' });
  });

  it('an external key that is not AES_256, not ENABLED or not for ENCRYPT and DECRYPT: XksKeyInvalidConfigurationException', async () => {
    const storeId = await connected();
    for (const body of [
      { keySpec: 'RSA_2048', keyUsage: ['ENCRYPT', 'DECRYPT'], keyStatus: 'ENABLED' },
      { keySpec: 'AES_256', keyUsage: ['ENCRYPT', 'DECRYPT'], keyStatus: 'DISABLED' },
      { keySpec: 'AES_256', keyUsage: ['ENCRYPT'], keyStatus: 'ENABLED' },
    ]) {
      answers.metadata = { status: 200, body };
      expect(await failureOf(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId, XksKeyId: 'misconfigured' })))).toMatchObject({
        name: 'XksKeyInvalidConfigurationException',
      });
    }
  });
});

describe('periodic health checks', () => {
  async function untilCalls(path: string, atLeast: number): Promise<void> {
    while ((healthCalls.get(`${path}/health`) ?? 0) < atLeast) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  it('run while CONNECTED, resume after a restart of the stand-in, and end on disconnect', async () => {
    const first = await standInFixture({ xksProxyBaseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, xksHealthCheckIntervalMs: 50 });
    const path = '/periodic/kms/xks/v1';
    const { CustomKeyStoreId } = await first.kms.send(
      new CreateCustomKeyStoreCommand({
        CustomKeyStoreName: 'periodic',
        CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
        XksProxyUriEndpoint: 'https://periodic.example.com',
        XksProxyUriPath: path,
        XksProxyConnectivity: 'PUBLIC_ENDPOINT',
        XksProxyAuthenticationCredential: { AccessKeyId: 'ABCDEFGHIJKLMNOPQRST', RawSecretAccessKey: 'a'.repeat(43) },
      }),
    );
    await first.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId }));
    const afterConnect = 2; // CreateCustomKeyStore and ConnectCustomKeyStore
    await untilCalls(path, afterConnect + 3);
    await first.stop({ keepState: true });

    const second = await standInFixture({ stateDir: first.stateDir, xksProxyBaseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, xksHealthCheckIntervalMs: 50 });
    try {
      const beforeRestart = healthCalls.get(`${path}/health`) ?? 0;
      await untilCalls(path, beforeRestart + 3);
      await second.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId }));
      await new Promise((resolve) => setTimeout(resolve, 200)); // let a check already under way finish
      const atDisconnect = healthCalls.get(`${path}/health`) ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(healthCalls.get(`${path}/health`)).toBe(atDisconnect);
    } finally {
      await second.stop();
      rmSync(first.stateDir, { recursive: true, force: true });
    }
  });

  it('a connection cut short by a crash (CONNECTING in the state folder) is finished at the next start', async () => {
    const baseUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const first = await standInFixture({ xksProxyBaseUrl: baseUrl });
    const { CustomKeyStoreId } = await first.kms.send(
      new CreateCustomKeyStoreCommand({
        CustomKeyStoreName: 'crashed',
        CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
        XksProxyUriEndpoint: 'https://crashed.example.com',
        XksProxyUriPath: '/crashed/kms/xks/v1',
        XksProxyConnectivity: 'PUBLIC_ENDPOINT',
        XksProxyAuthenticationCredential: { AccessKeyId: 'ABCDEFGHIJKLMNOPQRST', RawSecretAccessKey: 'a'.repeat(43) },
      }),
    );
    const stores = customKeyStoresOf(first.standIn.state.scope(first.standIn.accountId, first.standIn.region));
    stores.put(CustomKeyStoreId!, { ...stores.get(CustomKeyStoreId!)!, connectionState: 'CONNECTING' });
    await first.stop({ keepState: true });

    const second = await standInFixture({ stateDir: first.stateDir, xksProxyBaseUrl: baseUrl });
    try {
      const store = await until(
        async () => (await second.kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId }))).CustomKeyStores![0],
        (current) => current.ConnectionState !== 'CONNECTING',
      );
      expect(store.ConnectionState).toBe('CONNECTED');
    } finally {
      await second.stop();
      rmSync(first.stateDir, { recursive: true, force: true });
    }
  });
});

async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
