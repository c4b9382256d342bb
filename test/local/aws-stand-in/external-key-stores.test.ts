/**
 * External key stores on the stand-in, calling a real XKS proxy: the local system (bin/local.ts,
 * SoftHSM2 behind the proxy) provides a key store, its credential and an HYOK key through the
 * management API, and the stand-in drives them as AWS KMS would, through the real
 * @aws-sdk/client-kms: CreateCustomKeyStore's checks and every proxy failure it names, the
 * asynchronous connection, CreateKey with XksKeyId, double encryption (a block at the proxy stops
 * Decrypt too), updates while connected and disconnected, disconnect and delete.
 */
import {
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ReEncryptCommand,
  UpdateCustomKeyStoreCommand,
  type CreateCustomKeyStoreCommandInput,
  type CustomKeyStoresListEntry,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startLocalSystem, type LocalSystem } from '../../helpers/local-system';
import { callApi, provisionThroughApi, type ApiProvisionedStore } from '../../xks/support/api-provisioning';
import { failureOf, runAwsCli, standInFixture, type StandInFixture } from './stand-in-fixture';

jest.setTimeout(180_000);

let system: LocalSystem;
let provisioned: ApiProvisionedStore;
let aws: StandInFixture;
let kms: KMSClient;

beforeAll(async () => {
  system = await startLocalSystem();
  provisioned = await provisionThroughApi(system);
  // AWS KMS's 250 ms proxy timeout is the default; on this shared two-core machine a TLS handshake
  // under load can take longer, so these tests allow 2 s (the timeout itself is tested below).
  aws = await standInFixture({ xksProxyBaseUrl: system.xksUrl, xksCaCert: system.xksCaCert, xksHealthCheckIntervalMs: 500, xksTimeoutMs: 2_000 });
  kms = aws.kms;
});

afterAll(async () => {
  await aws?.stop();
  await system?.stop();
});

let storeCount = 0;

function storeInput(overrides: Partial<CreateCustomKeyStoreCommandInput> = {}): CreateCustomKeyStoreCommandInput {
  storeCount += 1;
  return {
    CustomKeyStoreName: `xks-${storeCount}`,
    CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
    XksProxyUriEndpoint: 'https://xks.example.com',
    XksProxyUriPath: provisioned.uriPath,
    XksProxyConnectivity: 'PUBLIC_ENDPOINT',
    XksProxyAuthenticationCredential: { AccessKeyId: provisioned.accessKeyId, RawSecretAccessKey: provisioned.secretAccessKey },
    ...overrides,
  };
}

async function describeStore(id: string): Promise<CustomKeyStoresListEntry> {
  const { CustomKeyStores } = await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }));
  return CustomKeyStores![0];
}

async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const stateOf = (id: string) => until(() => describeStore(id), (store) => store.ConnectionState !== 'CONNECTING' && store.ConnectionState !== 'DISCONNECTING');

describe('CreateCustomKeyStore refusals (nothing is created)', () => {
  it('names each failure of the proxy call as the XKS spec`s table does', async () => {
    const wrongSecret = await failureOf(
      kms.send(new CreateCustomKeyStoreCommand(storeInput({ XksProxyAuthenticationCredential: { AccessKeyId: provisioned.accessKeyId, RawSecretAccessKey: 'A'.repeat(43) } }))),
    );
    expect(wrongSecret).toMatchObject({ name: 'XksProxyIncorrectAuthenticationCredentialException' });
    // The proxy answers a path it does not serve with InvalidUriPathException.
    expect(await failureOf(kms.send(new CreateCustomKeyStoreCommand(storeInput({ XksProxyUriPath: '/nowhere/kms/xks/v1' }))))).toMatchObject({
      name: 'XksProxyInvalidConfigurationException',
    });

    const unreachable = await standInFixture({ xksProxyBaseUrl: 'https://127.0.0.1:9', xksCaCert: system.xksCaCert });
    const untrusted = await standInFixture({ xksProxyBaseUrl: system.xksUrl, xksTimeoutMs: 2_000 });
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const timingOut = await standInFixture({ xksProxyBaseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` });
    try {
      expect(await failureOf(timingOut.kms.send(new CreateCustomKeyStoreCommand(storeInput())))).toMatchObject({
        name: 'XksProxyUriUnreachableException',
        message: expect.stringContaining('did not respond in time'),
      });
      expect(await failureOf(unreachable.kms.send(new CreateCustomKeyStoreCommand(storeInput())))).toMatchObject({
        name: 'XksProxyUriUnreachableException',
        message: expect.stringContaining('AWS KMS cannot communicate with the external key store proxy'),
      });
      expect(await failureOf(untrusted.kms.send(new CreateCustomKeyStoreCommand(storeInput())))).toMatchObject({
        name: 'XksProxyUriUnreachableException',
        message: expect.stringContaining('TLS'),
      });
    } finally {
      await unreachable.stop();
      await untrusted.stop();
      await timingOut.stop();
      silent.closeAllConnections();
      silent.close();
    }

    expect(await failureOf(kms.send(new CreateCustomKeyStoreCommand(storeInput({ XksProxyUriPath: '/kms/xks/v1/extra' }))))).toMatchObject({ name: 'ValidationException' });
    expect(await failureOf(kms.send(new CreateCustomKeyStoreCommand(storeInput({ XksProxyUriEndpoint: 'http://xks.example.com' }))))).toMatchObject({ name: 'ValidationException' });
    expect(await failureOf(kms.send(new CreateCustomKeyStoreCommand(storeInput({ XksProxyConnectivity: 'VPC_ENDPOINT_SERVICE' }))))).toMatchObject({
      name: 'XksProxyInvalidConfigurationException',
    });
    expect((await kms.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores).toEqual([]);
  });
});

describe('an external key store through its life', () => {
  let storeId: string;
  let keyId: string;
  let keyArn: string;

  it('is created DISCONNECTED and described as the DescribeCustomKeyStores example shows', async () => {
    const input = storeInput();
    storeId = (await kms.send(new CreateCustomKeyStoreCommand(input))).CustomKeyStoreId!;
    expect(storeId).toMatch(/^cks-[0-9a-f]{17}$/);
    const store = await describeStore(storeId);
    expect(Object.keys(store).sort()).toEqual(['ConnectionState', 'CreationDate', 'CustomKeyStoreId', 'CustomKeyStoreName', 'CustomKeyStoreType', 'XksProxyConfiguration']);
    expect(store).toMatchObject({
      CustomKeyStoreId: storeId,
      CustomKeyStoreName: input.CustomKeyStoreName,
      ConnectionState: 'DISCONNECTED',
      CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
      XksProxyConfiguration: { AccessKeyId: provisioned.accessKeyId, Connectivity: 'PUBLIC_ENDPOINT', UriEndpoint: 'https://xks.example.com', UriPath: provisioned.uriPath },
    });
    expect(JSON.stringify(store)).not.toContain(provisioned.secretAccessKey);
    expect((await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreName: input.CustomKeyStoreName }))).CustomKeyStores![0].CustomKeyStoreId).toBe(storeId);

    expect(await failureOf(kms.send(new CreateCustomKeyStoreCommand({ ...storeInput(), CustomKeyStoreName: input.CustomKeyStoreName })))).toMatchObject({ name: 'CustomKeyStoreNameInUseException' });
    expect(await failureOf(kms.send(new CreateCustomKeyStoreCommand(storeInput())))).toMatchObject({ name: 'XksProxyUriInUseException' });
    expect(await failureOf(kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: 'cks-00000000000000000' })))).toMatchObject({ name: 'CustomKeyStoreNotFoundException' });
  });

  it('refuses CreateKey until connected; connects asynchronously', async () => {
    expect(
      await failureOf(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId, XksKeyId: provisioned.externalKeyId }))),
    ).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect(['CONNECTING', 'CONNECTED']).toContain((await describeStore(storeId)).ConnectionState);
    expect((await stateOf(storeId)).ConnectionState).toBe('CONNECTED');
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })); // already connected: succeeds
  });

  it('creates a KMS key for the external key after asking the proxy for its metadata', async () => {
    expect(await failureOf(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId, XksKeyId: 'no-such-key' })))).toMatchObject({
      name: 'XksKeyNotFoundException',
    });
    expect(await failureOf(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId })))).toMatchObject({ name: 'ValidationException' });
    const metadata = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId, XksKeyId: provisioned.externalKeyId, Description: 'hyok' }))).KeyMetadata!;
    keyId = metadata.KeyId!;
    keyArn = metadata.Arn!;
    expect(metadata).toMatchObject({
      Origin: 'EXTERNAL_KEY_STORE',
      CustomKeyStoreId: storeId,
      XksKeyConfiguration: { Id: provisioned.externalKeyId },
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: 'Enabled',
      Description: 'hyok',
    });
    expect(metadata.CurrentKeyMaterialId).toBeUndefined();
    expect(await failureOf(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId, XksKeyId: provisioned.externalKeyId })))).toMatchObject({
      name: 'XksKeyAlreadyInUseException',
    });
  });

  it('encrypts and decrypts through the proxy (Encrypt, Decrypt, GenerateDataKey, ReEncrypt)', async () => {
    const plaintext = Buffer.from('hold your own key');
    const sealed = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { app: 'test' } }));
    expect(sealed.KeyId).toBe(keyArn);
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: { app: 'test' } }));
    expect(Buffer.from(opened.Plaintext!)).toEqual(plaintext);
    expect(await failureOf(kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: { app: 'other' } })))).toMatchObject({ name: 'KMSInvalidStateException' });

    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32 }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }))).Plaintext!)).toEqual(Buffer.from(dataKey.Plaintext!));

    const native = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const toNative = await kms.send(new ReEncryptCommand({ CiphertextBlob: sealed.CiphertextBlob, SourceEncryptionContext: { app: 'test' }, DestinationKeyId: native.KeyId }));
    const backToXks = await kms.send(new ReEncryptCommand({ CiphertextBlob: toNative.CiphertextBlob, DestinationKeyId: keyId }));
    expect(backToXks).toMatchObject({ SourceKeyId: native.Arn, KeyId: keyArn });
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: backToXks.CiphertextBlob }))).Plaintext!)).toEqual(plaintext);
  });

  it('a block at the proxy stops Encrypt and Decrypt with KMSInvalidStateException; unblock restores them', async () => {
    const sealed = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('before the block') }));
    await callApi(system, 'POST', `/v1/cckm/aws/custom-key-stores/${provisioned.storeId}/block`);
    const refused = await until(
      () => failureOf(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))).catch(() => undefined),
      (failure) => failure !== undefined,
    );
    expect(refused).toMatchObject({ name: 'KMSInvalidStateException' });
    // Decrypt needs the proxy's layer: the KMS-own layer alone does not open the ciphertext.
    expect(await failureOf(kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob })))).toMatchObject({ name: 'KMSInvalidStateException' });

    await callApi(system, 'POST', `/v1/cckm/aws/custom-key-stores/${provisioned.storeId}/unblock`);
    const reopened = await until(
      () => kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob })).catch(() => undefined),
      (result) => result !== undefined,
    );
    expect(Buffer.from(reopened!.Plaintext!).toString()).toBe('before the block');
  });

  it('while CONNECTED changes the credential and path but not the endpoint or connectivity', async () => {
    expect(await failureOf(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, XksProxyUriEndpoint: 'https://other.example.com' })))).toMatchObject({
      name: 'CustomKeyStoreInvalidStateException',
    });
    expect(
      await failureOf(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, XksProxyAuthenticationCredential: { AccessKeyId: provisioned.accessKeyId, RawSecretAccessKey: 'B'.repeat(43) } }))),
    ).toMatchObject({ name: 'XksProxyIncorrectAuthenticationCredentialException' });
    expect((await describeStore(storeId)).XksProxyConfiguration!.AccessKeyId).toBe(provisioned.accessKeyId);

    const rotated = await callApi<{ access_key_id: string; secret_access_key: string }>(system, 'POST', `/v1/cckm/aws/custom-key-stores/${provisioned.storeId}/rotate-credential`);
    await until(
      () =>
        kms
          .send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, XksProxyAuthenticationCredential: { AccessKeyId: rotated.access_key_id, RawSecretAccessKey: rotated.secret_access_key } }))
          .then(() => true)
          .catch(() => false),
      (done) => done,
    );
    const store = await describeStore(storeId);
    expect(store).toMatchObject({ ConnectionState: 'CONNECTED', XksProxyConfiguration: { AccessKeyId: rotated.access_key_id } });
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, NewCustomKeyStoreName: 'renamed-while-connected' }));
    expect((await describeStore(storeId)).CustomKeyStoreName).toBe('renamed-while-connected');
    const sealed = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('new credential') }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }))).Plaintext!).toString()).toBe('new credential');
  });

  it('refuses deletion while connected or holding keys; disconnecting makes its keys Unavailable', async () => {
    expect(await failureOf(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect((await stateOf(storeId)).ConnectionState).toBe('DISCONNECTED');
    expect(await failureOf(kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({ KeyState: 'Unavailable', Enabled: false });
    expect(await failureOf(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })))).toMatchObject({ name: 'KMSInvalidStateException', message: `${keyArn} is unavailable.` });
    expect(await failureOf(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).toMatchObject({
      name: 'CustomKeyStoreHasCMKsException',
      message: expect.stringContaining('contains 1 KMS key'),
    });
    // While DISCONNECTED the endpoint may change (checked with GetHealthStatus first).
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, XksProxyUriEndpoint: 'https://moved.example.com' }));
    expect((await describeStore(storeId)).XksProxyConfiguration!.UriEndpoint).toBe('https://moved.example.com');
  });
});

describe('failed connections', () => {
  it('ends FAILED with INVALID_CREDENTIALS when the proxy no longer accepts the credential; FAILED must be disconnected before connecting again', async () => {
    const extra = await provisionThroughApi(system);
    const storeId = (await kms.send(new CreateCustomKeyStoreCommand(storeInput({
      XksProxyUriPath: extra.uriPath,
      XksProxyAuthenticationCredential: { AccessKeyId: extra.accessKeyId, RawSecretAccessKey: extra.secretAccessKey },
    })))).CustomKeyStoreId!;
    const rotated = await callApi<{ oldest_credentials_id: string }>(system, 'POST', `/v1/cckm/aws/custom-key-stores/${extra.storeId}/rotate-credential`);
    await callApi(system, 'DELETE', `/v1/cckm/aws/custom-key-stores/${extra.storeId}/credentials/${rotated.oldest_credentials_id}`);
    const failed = await until(
      async () => {
        const current = await describeStore(storeId);
        if (current.ConnectionState === 'CONNECTED') {
          // The proxy may still have accepted the old credential (its state cache): try again.
          await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
          await stateOf(storeId);
        }
        if ((await describeStore(storeId)).ConnectionState === 'DISCONNECTED') await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
        return stateOf(storeId);
      },
      (store) => store.ConnectionState === 'FAILED',
    );
    expect(failed).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'INVALID_CREDENTIALS' });
    expect(await failureOf(kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    const disconnected = await stateOf(storeId);
    expect(disconnected.ConnectionState).toBe('DISCONNECTED');
    expect(disconnected.ConnectionErrorCode).toBeUndefined();
    await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect(await failureOf(describeStore(storeId))).toMatchObject({ name: 'CustomKeyStoreNotFoundException' });
  });
});

describe('the AWS CLI', () => {
  it('creates, connects and uses an external key store with `aws kms ... --endpoint-url`', async () => {
    const cliStore = await provisionThroughApi(system);
    const cli = (...args: string[]) => runAwsCli(aws.standIn, args) as Promise<Record<string, any>>;
    const { CustomKeyStoreId } = await cli(
      'kms', 'create-custom-key-store',
      '--custom-key-store-name', 'cli-xks',
      '--custom-key-store-type', 'EXTERNAL_KEY_STORE',
      '--xks-proxy-uri-endpoint', 'https://cli.xks.example.com',
      '--xks-proxy-uri-path', cliStore.uriPath,
      '--xks-proxy-authentication-credential', `AccessKeyId=${cliStore.accessKeyId},RawSecretAccessKey=${cliStore.secretAccessKey}`,
      '--xks-proxy-connectivity', 'PUBLIC_ENDPOINT',
    );
    expect(CustomKeyStoreId).toMatch(/^cks-/);
    await cli('kms', 'connect-custom-key-store', '--custom-key-store-id', CustomKeyStoreId);
    const described = await until(
      () => cli('kms', 'describe-custom-key-stores', '--custom-key-store-id', CustomKeyStoreId),
      (answer) => answer.CustomKeyStores[0].ConnectionState !== 'CONNECTING',
      60_000,
    );
    expect(described.CustomKeyStores[0]).toMatchObject({ ConnectionState: 'CONNECTED', CustomKeyStoreType: 'EXTERNAL_KEY_STORE', XksProxyConfiguration: { UriPath: cliStore.uriPath } });
    const key = await cli('kms', 'create-key', '--origin', 'EXTERNAL_KEY_STORE', '--custom-key-store-id', CustomKeyStoreId, '--xks-key-id', cliStore.externalKeyId);
    expect(key.KeyMetadata).toMatchObject({ Origin: 'EXTERNAL_KEY_STORE', XksKeyConfiguration: { Id: cliStore.externalKeyId } });
    const scratch = mkdtempSync(join(tmpdir(), 'xks-cli-'));
    writeFileSync(join(scratch, 'plaintext'), 'via the CLI');
    const encrypted = await cli('kms', 'encrypt', '--key-id', key.KeyMetadata.KeyId, '--plaintext', `fileb://${join(scratch, 'plaintext')}`);
    writeFileSync(join(scratch, 'ciphertext'), Buffer.from(encrypted.CiphertextBlob, 'base64'));
    const decrypted = await cli('kms', 'decrypt', '--ciphertext-blob', `fileb://${join(scratch, 'ciphertext')}`);
    rmSync(scratch, { recursive: true, force: true });
    expect(Buffer.from(decrypted.Plaintext, 'base64').toString()).toBe('via the CLI');
  });
});
