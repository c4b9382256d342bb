/**
 * The AWS KMS adapter against aws-sdk-client-mock: the requests it sends, the credentials it signs
 * with (assumed per container and region, cached until shortly before expiry), and the translation
 * of AWS failures the local AWS stand-in cannot produce (access denied, throttling, KMS internal
 * errors) as well as the ones it can.
 */
import {
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  CustomKeyStoreHasCMKsException,
  CustomKeyStoreInvalidStateException,
  CustomKeyStoreNameInUseException,
  CustomKeyStoreNotFoundException,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand,
  KMSClient,
  KMSInternalException,
  KMSServiceException,
  type KeyState,
  ListKeysCommand,
  UpdateCustomKeyStoreCommand,
  XksProxyIncorrectAuthenticationCredentialException,
  XksProxyUriUnreachableException,
} from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { SdkAwsKms } from '../../../lambdas/adapters/aws/kms-sdk';
import { ConflictError, DependencyError, ForbiddenError, KeyManagerError, ServiceUnavailableError, ValidationError } from '../../../lambdas/core/errors';
import type { ExternalKeyStoreSettings, KmsLocation } from '../../../lambdas/core/ports/aws-kms';

const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const meta = { $metadata: {} };
const kmsError = (name: string, message: string): KMSServiceException => new KMSServiceException({ name, $fault: 'client', message, ...meta });

const ROLE = 'arn:aws:iam::444455556666:role/xks-key-manager-kms';
const WITH_ROLE: KmsLocation = { containerId: 'container-1', accountId: '444455556666', region: 'eu-west-1', assumeRoleArn: ROLE, assumeRoleExternalId: 'ext-1' };
const OWN_ACCOUNT: KmsLocation = { containerId: 'container-2', accountId: '111122223333', region: 'us-east-1' };
const SETTINGS: ExternalKeyStoreSettings = {
  name: 'store-a',
  uriEndpoint: 'https://xks.example.com',
  uriPath: '/api/v1/cckm/aws/xks-proxy-endpoints/abc/kms/xks/v1',
  connectivity: 'PUBLIC_ENDPOINT',
  credential: { accessKeyId: 'ABCDEFGHIJKLMNOPQRSTUVWX', rawSecretAccessKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==' },
};
const OWN_CREDENTIALS = { accessKeyId: 'AKIADEPLOYMENT', secretAccessKey: 'deployment-secret' };

let clock = Date.parse('2026-12-01T12:00:00Z');
let sleeps: number[];
let adapter: SdkAwsKms;

function temporary(n: number, validForMs = 3600_000) {
  return { AccessKeyId: `ASIATEMP${n}`, SecretAccessKey: `temp-secret-${n}`, SessionToken: `token-${n}`, Expiration: new Date(clock + validForMs) };
}

async function failure(promise: Promise<unknown>): Promise<KeyManagerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyManagerError);
  return error as KeyManagerError;
}

beforeEach(() => {
  kms.reset();
  sts.reset();
  sleeps = [];
  clock = Date.parse('2026-12-01T12:00:00Z');
  adapter = new SdkAwsKms({
    credentials: OWN_CREDENTIALS,
    now: () => clock,
    retry: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
  });
});

describe('requests', () => {
  it('creates an external key store with every proxy setting and returns its id', async () => {
    // Arrange
    kms.on(CreateCustomKeyStoreCommand).resolves({ CustomKeyStoreId: 'cks-0123456789abcdef0' });

    // Act
    const id = await adapter.createExternalKeyStore(OWN_ACCOUNT, { ...SETTINGS, connectivity: 'VPC_ENDPOINT_SERVICE', vpcEndpointServiceName: 'com.amazonaws.vpce.us-east-1.vpce-svc-0abc' });

    // Assert
    expect(id).toBe('cks-0123456789abcdef0');
    expect(kms.commandCalls(CreateCustomKeyStoreCommand)[0].args[0].input).toEqual({
      CustomKeyStoreName: 'store-a',
      CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
      XksProxyUriEndpoint: 'https://xks.example.com',
      XksProxyUriPath: SETTINGS.uriPath,
      XksProxyConnectivity: 'VPC_ENDPOINT_SERVICE',
      XksProxyVpcEndpointServiceName: 'com.amazonaws.vpce.us-east-1.vpce-svc-0abc',
      XksProxyAuthenticationCredential: { AccessKeyId: SETTINGS.credential.accessKeyId, RawSecretAccessKey: SETTINGS.credential.rawSecretAccessKey },
    });
  });

  it('updates only the settings given (a new credential alone)', async () => {
    kms.on(UpdateCustomKeyStoreCommand).resolves({});

    await adapter.updateExternalKeyStore(OWN_ACCOUNT, 'cks-1', { credential: { accessKeyId: 'NEWKEYID', rawSecretAccessKey: 'new-secret' } });
    await adapter.updateExternalKeyStore(OWN_ACCOUNT, 'cks-1', { name: 'renamed', uriEndpoint: 'https://other.example.com' });

    expect(kms.commandCalls(UpdateCustomKeyStoreCommand).map((c) => c.args[0].input)).toEqual([
      { CustomKeyStoreId: 'cks-1', XksProxyAuthenticationCredential: { AccessKeyId: 'NEWKEYID', RawSecretAccessKey: 'new-secret' } },
      { CustomKeyStoreId: 'cks-1', NewCustomKeyStoreName: 'renamed', XksProxyUriEndpoint: 'https://other.example.com' },
    ]);
  });

  it('describes a store: connection state, error code and the proxy settings AWS KMS uses', async () => {
    kms.on(DescribeCustomKeyStoresCommand, { CustomKeyStoreId: 'cks-1' }).resolves({
      CustomKeyStores: [
        {
          CustomKeyStoreId: 'cks-1',
          CustomKeyStoreName: 'store-a',
          CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
          ConnectionState: 'FAILED',
          ConnectionErrorCode: 'XKS_PROXY_NOT_REACHABLE',
          XksProxyConfiguration: { AccessKeyId: 'AKID1', UriEndpoint: 'https://xks.example.com', UriPath: '/p/kms/xks/v1', Connectivity: 'PUBLIC_ENDPOINT' },
        },
      ],
    });

    await expect(adapter.describeCustomKeyStore(OWN_ACCOUNT, 'cks-1')).resolves.toEqual({
      customKeyStoreId: 'cks-1',
      name: 'store-a',
      type: 'EXTERNAL_KEY_STORE',
      connectionState: 'FAILED',
      connectionErrorCode: 'XKS_PROXY_NOT_REACHABLE',
      xksProxy: { accessKeyId: 'AKID1', uriEndpoint: 'https://xks.example.com', uriPath: '/p/kms/xks/v1', connectivity: 'PUBLIC_ENDPOINT' },
    });
  });

  it('answers undefined for a store AWS KMS does not have, and deleting one counts as done', async () => {
    kms.on(DescribeCustomKeyStoresCommand).rejects(new CustomKeyStoreNotFoundException({ message: 'not found', ...meta }));
    kms.on(DeleteCustomKeyStoreCommand).rejects(new CustomKeyStoreNotFoundException({ message: 'not found', ...meta }));

    await expect(adapter.describeCustomKeyStore(OWN_ACCOUNT, 'cks-gone')).resolves.toBeUndefined();
    await expect(adapter.deleteCustomKeyStore(OWN_ACCOUNT, 'cks-gone')).resolves.toBeUndefined();
  });

  it('connects and disconnects by id', async () => {
    kms.on(ConnectCustomKeyStoreCommand).resolves({});
    kms.on(DisconnectCustomKeyStoreCommand).resolves({});

    await adapter.connectCustomKeyStore(OWN_ACCOUNT, 'cks-1');
    await adapter.disconnectCustomKeyStore(OWN_ACCOUNT, 'cks-1');

    expect(kms.commandCalls(ConnectCustomKeyStoreCommand)[0].args[0].input).toEqual({ CustomKeyStoreId: 'cks-1' });
    expect(kms.commandCalls(DisconnectCustomKeyStoreCommand)[0].args[0].input).toEqual({ CustomKeyStoreId: 'cks-1' });
  });

  it('lists keys page by page and describes a key of an external key store', async () => {
    kms.on(ListKeysCommand, { Limit: 2 }).resolves({ Keys: [{ KeyId: 'k1' }, { KeyId: 'k2' }], Truncated: true, NextMarker: 'm1' });
    kms.on(ListKeysCommand, { Marker: 'm1' }).resolves({ Keys: [{ KeyId: 'k3' }], Truncated: false });
    kms.on(DescribeKeyCommand, { KeyId: 'k3' }).resolves({
      KeyMetadata: { KeyId: 'k3', Arn: 'arn:aws:kms:us-east-1:111122223333:key/k3', KeyState: 'Enabled', Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: 'cks-1', XksKeyConfiguration: { Id: 'xks-key' } },
    });

    await expect(adapter.listKeys(OWN_ACCOUNT, { limit: 2 })).resolves.toEqual({ keyIds: ['k1', 'k2'], nextMarker: 'm1' });
    await expect(adapter.listKeys(OWN_ACCOUNT, { marker: 'm1' })).resolves.toEqual({ keyIds: ['k3'] });
    await expect(adapter.describeKey(OWN_ACCOUNT, 'k3')).resolves.toEqual({
      keyId: 'k3', arn: 'arn:aws:kms:us-east-1:111122223333:key/k3', keyState: 'Enabled', origin: 'EXTERNAL_KEY_STORE', customKeyStoreId: 'cks-1', xksKeyId: 'xks-key',
    });
  });
});

describe('credentials', () => {
  it("signs for a container without a role with the deployment's own credentials, the region and the endpoint override", async () => {
    // Arrange
    adapter = new SdkAwsKms({ credentials: OWN_CREDENTIALS, endpoint: 'http://127.0.0.1:4599' });
    kms.on(ConnectCustomKeyStoreCommand).resolves({});

    // Act
    await adapter.connectCustomKeyStore(OWN_ACCOUNT, 'cks-1');

    // Assert
    const client = kms.commandCalls(ConnectCustomKeyStoreCommand)[0].thisValue as KMSClient;
    await expect(client.config.credentials()).resolves.toMatchObject(OWN_CREDENTIALS);
    await expect(client.config.region()).resolves.toBe('us-east-1');
    const endpoint = await client.config.endpoint?.();
    expect(endpoint && `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`).toBe('http://127.0.0.1:4599');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it("assumes the container's role (session name, an hour, external id) in the container's region and signs with it", async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: temporary(1) });
    kms.on(ConnectCustomKeyStoreCommand).resolves({});

    await adapter.connectCustomKeyStore(WITH_ROLE, 'cks-1');
    const client = kms.commandCalls(ConnectCustomKeyStoreCommand)[0].thisValue as KMSClient;
    const credentials = await client.config.credentials();

    expect(credentials).toMatchObject({ accessKeyId: 'ASIATEMP1', secretAccessKey: 'temp-secret-1', sessionToken: 'token-1' });
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: ROLE, RoleSessionName: 'xks-key-manager', DurationSeconds: 3600, ExternalId: 'ext-1' },
    ]);
    const stsClient = sts.commandCalls(AssumeRoleCommand)[0].thisValue as STSClient;
    await expect(stsClient.config.region()).resolves.toBe('eu-west-1');
    await expect(stsClient.config.credentials()).resolves.toMatchObject(OWN_CREDENTIALS);
  });

  it('keeps assumed credentials per container and region until five minutes before they expire', async () => {
    // Arrange
    let n = 0;
    sts.on(AssumeRoleCommand).callsFake(async () => ({ Credentials: temporary(++n) }));
    kms.on(ConnectCustomKeyStoreCommand).resolves({});
    const credentialsOf = async (at: KmsLocation): Promise<unknown> => {
      await adapter.connectCustomKeyStore(at, 'cks-1');
      const calls = kms.commandCalls(ConnectCustomKeyStoreCommand);
      return (calls[calls.length - 1].thisValue as KMSClient).config.credentials();
    };

    // Act + Assert: concurrent first uses share one AssumeRole
    const [a, b] = await Promise.all([credentialsOf(WITH_ROLE), credentialsOf(WITH_ROLE)]);
    expect(a).toMatchObject({ accessKeyId: 'ASIATEMP1' });
    expect(b).toMatchObject({ accessKeyId: 'ASIATEMP1' });
    // another region of the same container is another session
    await expect(credentialsOf({ ...WITH_ROLE, region: 'us-east-1' })).resolves.toMatchObject({ accessKeyId: 'ASIATEMP2' });
    // 54 minutes later the first session still has more than 5 minutes left
    clock += 54 * 60_000;
    await expect(credentialsOf({ ...WITH_ROLE })).resolves.toMatchObject({ accessKeyId: 'ASIATEMP1' });
    // 56 minutes after it was issued, it is replaced
    clock += 2 * 60_000;
    await expect(credentialsOf({ ...WITH_ROLE, containerId: 'container-1' })).resolves.toMatchObject({ accessKeyId: 'ASIATEMP3' });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(3);
  });

  it('answers a role STS refuses with a 403 naming the account and the role, and tries again on the next call', async () => {
    sts.on(AssumeRoleCommand)
      .rejectsOnce(new STSServiceException({ name: 'AccessDenied', $fault: 'client', message: 'not authorized to perform sts:AssumeRole', ...meta }))
      .resolves({ Credentials: temporary(1) });
    kms.on(ConnectCustomKeyStoreCommand).resolves({});
    const first = async (): Promise<unknown> => {
      await adapter.connectCustomKeyStore(WITH_ROLE, 'cks-1');
      return (kms.commandCalls(ConnectCustomKeyStoreCommand)[0].thisValue as KMSClient).config.credentials();
    };

    const error = await failure(first());

    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.statusCode).toBe(403);
    expect(error.message).toContain('444455556666');
    expect(error.message).toContain(ROLE);
    expect(error.message).toContain('sts:AssumeRole');
    await expect(first()).resolves.toMatchObject({ accessKeyId: 'ASIATEMP1' });
  });
});

describe('AWS errors', () => {
  it('answers AccessDeniedException with a 403 naming the account, the region and the role', async () => {
    kms.on(CreateCustomKeyStoreCommand).rejects(kmsError('AccessDeniedException', 'User is not authorized to perform: kms:CreateCustomKeyStore'));

    const error = await failure(adapter.createExternalKeyStore(OWN_ACCOUNT, SETTINGS));

    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.message).toMatch(/CreateCustomKeyStore in account 111122223333 \(us-east-1\) to the key manager's own role: User is not authorized/);
  });

  it('retries throttled calls with growing backoff and succeeds when AWS KMS lets one through', async () => {
    kms.on(ConnectCustomKeyStoreCommand)
      .rejectsOnce(kmsError('ThrottlingException', 'Rate exceeded'))
      .rejectsOnce(kmsError('ThrottlingException', 'Rate exceeded'))
      .resolves({});

    await adapter.connectCustomKeyStore(OWN_ACCOUNT, 'cks-1');

    expect(kms.commandCalls(ConnectCustomKeyStoreCommand)).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]); // full jitter (random 0.5) of 100 ms, then 200 ms
  });

  it('answers throttling that outlasts the retries with a 503 saying what AWS KMS said', async () => {
    kms.on(ConnectCustomKeyStoreCommand).rejects(kmsError('ThrottlingException', 'Rate exceeded'));

    const error = await failure(adapter.connectCustomKeyStore(OWN_ACCOUNT, 'cks-1'));

    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.statusCode).toBe(503);
    expect(error.message).toContain('ThrottlingException: Rate exceeded');
    expect(kms.commandCalls(ConnectCustomKeyStoreCommand)).toHaveLength(4);
  });

  it('answers a KMS ValidationException with a 400 naming the API field of the parameter it names', async () => {
    kms.on(CreateCustomKeyStoreCommand).rejects(
      kmsError('ValidationException', "1 validation error detected: Value '/bad' at 'xksProxyUriPath' failed to satisfy constraint: Member must satisfy regular expression pattern"),
    );

    const error = await failure(adapter.createExternalKeyStore(OWN_ACCOUNT, SETTINGS));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('aws_param.xks_proxy_uri_path');
    expect(error.message).toMatch(/^aws_param\.xks_proxy_uri_path: AWS KMS refused it: 1 validation error/);
  });

  it('answers an unreachable proxy with a 400 naming the endpoint and quoting AWS KMS', async () => {
    kms.on(CreateCustomKeyStoreCommand).rejects(new XksProxyUriUnreachableException({ message: 'KMS cannot reach the XKS proxy at https://xks.example.com', ...meta }));

    const error = await failure(adapter.createExternalKeyStore(OWN_ACCOUNT, SETTINGS));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('aws_param.xks_proxy_uri_endpoint');
    expect(error.message).toContain('XksProxyUriUnreachableException: KMS cannot reach the XKS proxy');
    expect(kms.commandCalls(CreateCustomKeyStoreCommand)).toHaveLength(3); // AWS KMS says "Retry the request": twice
  });

  it('retries a new credential the proxy does not know yet for as long as it may take to learn it', async () => {
    // Arrange: the proxy refuses the credential twice (its state cache is older), then accepts it
    kms.on(UpdateCustomKeyStoreCommand)
      .rejectsOnce(new XksProxyIncorrectAuthenticationCredentialException({ message: 'bad credential', ...meta }))
      .rejectsOnce(new XksProxyIncorrectAuthenticationCredentialException({ message: 'bad credential', ...meta }))
      .resolves({});
    const credential = { accessKeyId: 'NEWKEYID', rawSecretAccessKey: 'new-secret' };

    // Act
    await adapter.updateExternalKeyStore(OWN_ACCOUNT, 'cks-1', { credential }, { credentialPropagationMs: 6_000 });

    // Assert
    expect(kms.commandCalls(UpdateCustomKeyStoreCommand)).toHaveLength(3);
    expect(sleeps).toEqual([250, 500]);
  });

  it('does not retry a refused credential without a propagation time, nor past it', async () => {
    kms.on(UpdateCustomKeyStoreCommand).rejects(new XksProxyIncorrectAuthenticationCredentialException({ message: 'bad credential', ...meta }));
    const credential = { accessKeyId: 'NEWKEYID', rawSecretAccessKey: 'new-secret' };

    const error = await failure(adapter.updateExternalKeyStore(OWN_ACCOUNT, 'cks-1', { credential }));

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain('XksProxyIncorrectAuthenticationCredentialException: bad credential');
    expect(kms.commandCalls(UpdateCustomKeyStoreCommand)).toHaveLength(1);
  });

  it('answers a name in use and a store in the wrong state with 409s quoting AWS KMS', async () => {
    kms.on(CreateCustomKeyStoreCommand).rejects(new CustomKeyStoreNameInUseException({ message: 'name store-a is in use', ...meta }));
    kms.on(UpdateCustomKeyStoreCommand).rejects(new CustomKeyStoreInvalidStateException({ message: 'must be DISCONNECTED to change the endpoint', ...meta }));

    const taken = await failure(adapter.createExternalKeyStore(OWN_ACCOUNT, SETTINGS));
    const state = await failure(adapter.updateExternalKeyStore(OWN_ACCOUNT, 'cks-1', { uriEndpoint: 'https://b.example.com' }));

    expect(taken).toBeInstanceOf(ConflictError);
    expect(taken.message).toMatch(/^name: AWS KMS CreateCustomKeyStore in account 111122223333 \(us-east-1\): CustomKeyStoreNameInUseException: name store-a is in use/);
    expect(state).toBeInstanceOf(ConflictError);
    expect(state.message).toContain('must be DISCONNECTED to change the endpoint');
  });

  it('refuses to delete a store AWS KMS still has keys in, saying how many', async () => {
    // Arrange: three keys in the account, two of them in the store (one pending deletion)
    kms.on(DeleteCustomKeyStoreCommand).rejects(new CustomKeyStoreHasCMKsException({ message: 'has keys', ...meta }));
    kms.on(ListKeysCommand).resolves({ Keys: [{ KeyId: 'k1' }, { KeyId: 'k2' }, { KeyId: 'k3' }], Truncated: false });
    const key = (id: string, store?: string, state: KeyState = 'Enabled') => ({ KeyMetadata: { KeyId: id, Arn: `arn:aws:kms:us-east-1:111122223333:key/${id}`, KeyState: state, CustomKeyStoreId: store } });
    kms.on(DescribeKeyCommand, { KeyId: 'k1' }).resolves(key('k1', 'cks-1'));
    kms.on(DescribeKeyCommand, { KeyId: 'k2' }).resolves(key('k2'));
    kms.on(DescribeKeyCommand, { KeyId: 'k3' }).resolves(key('k3', 'cks-1', 'PendingDeletion'));

    // Act
    const error = await failure(adapter.deleteCustomKeyStore(OWN_ACCOUNT, 'cks-1'));

    // Assert
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toMatch(/still has 2 KMS key\(s\) in it, counting those pending deletion/);
  });

  it("answers AWS KMS's own faults with a 502 quoting them", async () => {
    kms.on(DescribeKeyCommand).rejects(new KMSInternalException({ message: 'internal', ...meta }));

    const error = await failure(adapter.describeKey(OWN_ACCOUNT, 'k1'));

    expect(error).toBeInstanceOf(DependencyError);
    expect(error.message).toContain('KMSInternalException: internal');
    expect(kms.commandCalls(DescribeKeyCommand)).toHaveLength(1);
  });
});
