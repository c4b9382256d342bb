/**
 * The production AWS KMS adapter (adapters/aws/kms-sdk.ts, the real @aws-sdk/client-kms and
 * client-sts over HTTP) against the local AWS stand-in: a container's role assumed with STS and
 * its account's KMS reached with the session, the deployment's own credentials for a container
 * without a role, and AWS KMS's own answers translated (a store it does not have, a proxy it cannot
 * reach, throttling retried and then a 503). The paths that need the XKS proxy are in
 * test/e2e/linked-key-stores.test.ts; what the stand-in cannot produce, in test/unit/adapters/kms-sdk.test.ts.
 */
import { CreateKeyCommand, DescribeCustomKeyStoresCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { SdkAwsKms } from '../../../lambdas/adapters/aws/kms-sdk';
import { ConflictError, ForbiddenError, ServiceUnavailableError, ValidationError } from '../../../lambdas/core/errors';
import type { ExternalKeyStoreSettings, KmsLocation } from '../../../lambdas/core/ports/aws-kms';
import { standInFixture, type StandInFixture } from '../../local/aws-stand-in/stand-in-fixture';

let aws: StandInFixture;
let own: KmsLocation;
const ROLE_ACCOUNT = '444455556666';
const viaRole = (region = 'us-east-1'): KmsLocation => ({
  containerId: 'container-with-role',
  accountId: ROLE_ACCOUNT,
  region,
  assumeRoleArn: `arn:aws:iam::${ROLE_ACCOUNT}:role/xks-key-manager-test`,
  assumeRoleExternalId: 'ext-1',
});
const SETTINGS: ExternalKeyStoreSettings = {
  name: 'unreachable',
  uriEndpoint: 'https://xks.example.com',
  uriPath: '/api/v1/cckm/aws/xks-proxy-endpoints/0f8e0d5e-0000-4000-8000-000000000000/kms/xks/v1',
  connectivity: 'PUBLIC_ENDPOINT',
  credential: { accessKeyId: 'ABCDEFGHIJKLMNOPQRSTUVWX', rawSecretAccessKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==' },
};

function adapter(): SdkAwsKms {
  return new SdkAwsKms({ endpoint: aws.standIn.endpointUrl, credentials: aws.standIn, retry: { baseDelayMs: 1 } });
}

beforeAll(async () => {
  // No proxy listens where every XKS endpoint leads: AWS KMS cannot check a new store.
  aws = await standInFixture({ xksProxyBaseUrl: 'https://127.0.0.1:9', accounts: [{ accountId: '111122223333' }, { accountId: ROLE_ACCOUNT }] });
  own = { containerId: 'container-own', accountId: aws.standIn.accountId, region: 'us-east-1' };
});

afterAll(async () => {
  await aws?.stop();
});

it("reaches a container's account through its role, and the deployment's own account without one", async () => {
  // Arrange: a key in each account
  const ownKey = (await aws.kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
  const roleSession = await aws.sts.send(
    new AssumeRoleCommand({ RoleArn: viaRole().assumeRoleArn, RoleSessionName: 'setup' }),
  );
  const roleKms = aws.kmsFor({
    accessKeyId: roleSession.Credentials?.AccessKeyId as string,
    secretAccessKey: roleSession.Credentials?.SecretAccessKey as string,
    sessionToken: roleSession.Credentials?.SessionToken,
  });
  const roleKey = (await roleKms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
  const kms = adapter();

  // Act
  const ownKeys = await kms.listKeys(own);
  const roleKeys = await kms.listKeys(viaRole());
  const described = await kms.describeKey(viaRole(), roleKey);

  // Assert: each account sees its own keys only
  expect(ownKeys.keyIds).toContain(ownKey);
  expect(ownKeys.keyIds).not.toContain(roleKey);
  expect(roleKeys.keyIds).toEqual([roleKey]);
  expect(described).toMatchObject({ keyId: roleKey, arn: `arn:aws:kms:us-east-1:${ROLE_ACCOUNT}:key/${roleKey}`, keyState: 'Enabled', origin: 'AWS_KMS' });
});

it('answers a role the account does not let the key manager assume with a 403 naming the account and the role', async () => {
  const kms = adapter();
  const at = { ...viaRole(), assumeRoleArn: `arn:aws:iam::${ROLE_ACCOUNT}:role/someone-elses-role` };

  const error = await kms.listKeys(at).then(
    () => undefined,
    (e: unknown) => e as Error,
  );

  expect(error).toBeInstanceOf(ForbiddenError);
  expect(error?.message).toContain(ROLE_ACCOUNT);
  expect(error?.message).toContain('someone-elses-role');
});

it("translates AWS KMS's answers: a store it does not have, a proxy it cannot reach (nothing created)", async () => {
  const kms = adapter();

  await expect(kms.describeCustomKeyStore(own, 'cks-0123456789abcdef0')).resolves.toBeUndefined();
  await expect(kms.deleteCustomKeyStore(own, 'cks-0123456789abcdef0')).resolves.toBeUndefined();
  const unreachable = await kms.createExternalKeyStore(own, SETTINGS).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  const notThere = await kms.connectCustomKeyStore(own, 'cks-0123456789abcdef0').then(
    () => undefined,
    (e: unknown) => e as Error,
  );

  expect(unreachable).toBeInstanceOf(ValidationError);
  expect((unreachable as ValidationError).field).toBe('aws_param.xks_proxy_uri_endpoint');
  expect(unreachable?.message).toMatch(/^aws_param\.xks_proxy_uri_endpoint: AWS KMS CreateCustomKeyStore in account 111122223333 \(us-east-1\): XksProxy\w+Exception: /);
  expect(notThere).toBeInstanceOf(ConflictError);
  expect(notThere?.message).toContain('CustomKeyStoreNotFoundException');
  expect((await aws.kms.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores).toEqual([]);
});

it('retries throttled calls and answers a 503 when AWS KMS keeps throttling', async () => {
  // Arrange: one ListKeys per second for the account
  aws.standIn.throttle.configure({ requestsPerSecond: { ListKeys: 1 } });
  const kms = new SdkAwsKms({ endpoint: aws.standIn.endpointUrl, credentials: aws.standIn, retry: { attempts: 2, baseDelayMs: 1 } });
  try {
    // Act: a burst of five, two attempts each
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => kms.listKeys(own).then(() => 'ok', (e: unknown) => e)));

    // Assert
    const refused = outcomes.filter((o) => o !== 'ok');
    expect(outcomes).toContain('ok');
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect((error as Error).message).toContain('ThrottlingException');
    }
  } finally {
    aws.standIn.throttle.configure({});
  }
});
