/**
 * The CloudHSM adapter (and the CloudHSM half of the AWS KMS adapter) against aws-sdk-client-mock:
 * DescribeClusters paging, the role it signs with, PreCoPassword never passed on, and the AWS
 * failures the local AWS stand-in cannot produce (access denied, throttling, CloudHSM internal
 * errors); CreateCustomKeyStore's CloudHSM refusals and a kmsuser password never in an error.
 */
import { CloudHSMV2Client, CloudHsmAccessDeniedException, CloudHsmInternalFailureException, DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import { CreateCustomKeyStoreCommand, KMSClient, KMSServiceException, UpdateCustomKeyStoreCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { SdkCloudHsmClusterHsms, SdkCloudHsmClusters } from '../../../lambdas/adapters/aws/cloudhsm-sdk';
import { SdkAwsKms } from '../../../lambdas/adapters/aws/kms-sdk';
import { ConflictError, DependencyError, ForbiddenError, type KeyManagerError, ServiceUnavailableError, ValidationError } from '../../../lambdas/core/errors';
import type { KmsLocation } from '../../../lambdas/core/ports/aws-kms';

/**
 * @aws-sdk/client-cloudhsm-v2 3.332.0 (the only version installable here) is typed against older
 * Smithy types than aws-sdk-client-mock expects, so its mock and command are used untyped.
 */
const cloudHsm = mockClient(CloudHSMV2Client as never) as unknown as { reset(): void; on(command: unknown): any; commandCalls(command: unknown): any[] };
const DESCRIBE_CLUSTERS = DescribeClustersCommand as unknown;
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const meta = { $metadata: {} };

const ROLE = 'arn:aws:iam::444455556666:role/xks-key-manager-kms';
const WITH_ROLE: KmsLocation = { containerId: 'container-1', accountId: '444455556666', region: 'eu-west-1', assumeRoleArn: ROLE };
const OWN_ACCOUNT: KmsLocation = { containerId: 'container-2', accountId: '111122223333', region: 'us-east-1' };
const PASSWORD = 'kmsuser-Secret-77';
const noWait = { sleep: async () => undefined, random: () => 0 };

async function failure(promise: Promise<unknown>): Promise<KeyManagerError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (error === undefined) throw new Error('expected a failure');
  return error as KeyManagerError;
}

const cluster = (id: string, extra: Record<string, unknown> = {}) => ({ ClusterId: id, State: 'ACTIVE', CreateTimestamp: new Date('2026-11-01T10:00:00Z'), Hsms: [], ...extra });

beforeEach(() => {
  cloudHsm.reset();
  kms.reset();
  sts.reset();
});

describe('DescribeClusters', () => {
  it('reads every page, answers the clusters as AWS returns them (dates as ISO strings) and never PreCoPassword', async () => {
    // Arrange
    cloudHsm.on(DESCRIBE_CLUSTERS).resolvesOnce({ Clusters: [cluster('cluster-aaaaaaaaaaa', { PreCoPassword: 'pre-co-secret' })], NextToken: 'page-2' }).resolvesOnce({ Clusters: [cluster('cluster-bbbbbbbbbbb')] });
    const adapter = new SdkCloudHsmClusters({ endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' }, retry: noWait });

    // Act
    const clusters = await adapter.describeClusters(OWN_ACCOUNT);

    // Assert
    expect(clusters.map((c) => c.ClusterId)).toEqual(['cluster-aaaaaaaaaaa', 'cluster-bbbbbbbbbbb']);
    expect(clusters[0]).toEqual({ ClusterId: 'cluster-aaaaaaaaaaa', State: 'ACTIVE', CreateTimestamp: '2026-11-01T10:00:00.000Z', Hsms: [] });
    expect(JSON.stringify(clusters)).not.toContain('pre-co-secret');
    expect(cloudHsm.commandCalls(DESCRIBE_CLUSTERS).map((c: { args: Array<{ input: unknown }> }) => c.args[0].input)).toEqual([{ MaxResults: 25 }, { MaxResults: 25, NextToken: 'page-2' }]);
  });

  it('signs with the container\'s role, assumed through STS', async () => {
    // Arrange
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIATEMP', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3600_000) } });
    cloudHsm.on(DESCRIBE_CLUSTERS).resolves({ Clusters: [] });
    const adapter = new SdkCloudHsmClusters({ endpoint: 'http://127.0.0.1:1', retry: noWait });

    // Act
    await adapter.describeClusters(WITH_ROLE);
    await adapter.describeClusters(WITH_ROLE);

    // Assert: one client, signing with the role's credentials (the mock skips signing, so they are resolved here), assumed once.
    const [first, second] = cloudHsm.commandCalls(DESCRIBE_CLUSTERS).map((c: { thisValue: unknown }) => c.thisValue as CloudHSMV2Client);
    expect(second).toBe(first);
    expect((await first.config.credentials()).accessKeyId).toBe('ASIATEMP');
    expect((await first.config.credentials()).accessKeyId).toBe('ASIATEMP');
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([ROLE]);
  });

  it('answers access denied with a 403 naming account and role, throttling with retries then a 503, an internal failure with a 502', async () => {
    // Arrange
    const adapter = new SdkCloudHsmClusters({ endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' }, retry: noWait });
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIATEMP', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3600_000) } });

    // Act + Assert
    cloudHsm.on(DESCRIBE_CLUSTERS).rejects(new CloudHsmAccessDeniedException({ message: 'not authorized to cloudhsm:DescribeClusters', ...meta }));
    const denied = await failure(adapter.describeClusters(WITH_ROLE));
    expect(denied).toBeInstanceOf(ForbiddenError);
    expect(denied.message).toContain('444455556666');
    expect(denied.message).toContain(ROLE);

    cloudHsm.reset();
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} });
    cloudHsm.on(DESCRIBE_CLUSTERS).rejects(throttled);
    const busy = await failure(adapter.describeClusters(OWN_ACCOUNT));
    expect(busy).toBeInstanceOf(ServiceUnavailableError);
    expect(busy.message).toMatch(/AWS CloudHSM is throttling DescribeClusters in account 111122223333/);
    expect(cloudHsm.commandCalls(DESCRIBE_CLUSTERS)).toHaveLength(4);

    cloudHsm.reset();
    cloudHsm.on(DESCRIBE_CLUSTERS).rejects(new CloudHsmInternalFailureException({ message: 'internal', ...meta }));
    expect(await failure(adapter.describeClusters(OWN_ACCOUNT))).toBeInstanceOf(DependencyError);
  });
});

describe('The HSMs of one cluster (the XKS proxy\'s deep health check)', () => {
  const adapter = () => new SdkCloudHsmClusterHsms({ endpoint: 'http://127.0.0.1:1', region: 'eu-west-1', credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' } });

  it('asks for the one cluster, once, with the caller\'s abort signal, and answers its HSMs by AWS\'s field names', async () => {
    // Arrange
    const hsms = [
      { HsmId: 'hsm-aaaaaaaaaaa', State: 'ACTIVE', StateMessage: 'HSM created.', AvailabilityZone: 'eu-west-1a', EniIp: '10.0.0.10' },
      { HsmId: 'hsm-bbbbbbbbbbb', State: 'DEGRADED', AvailabilityZone: 'eu-west-1b' },
    ];
    cloudHsm.on(DESCRIBE_CLUSTERS).resolves({ Clusters: [cluster('cluster-aaaaaaaaaaa', { Hsms: hsms })] });
    const abort = new AbortController();

    // Act
    const answer = await adapter().hsmsOf('cluster-aaaaaaaaaaa', { signal: abort.signal });

    // Assert
    expect(answer).toEqual([
      { HsmId: 'hsm-aaaaaaaaaaa', State: 'ACTIVE', StateMessage: 'HSM created.', AvailabilityZone: 'eu-west-1a' },
      { HsmId: 'hsm-bbbbbbbbbbb', State: 'DEGRADED', AvailabilityZone: 'eu-west-1b' },
    ]);
    const calls = cloudHsm.commandCalls(DESCRIBE_CLUSTERS) as Array<{ args: [{ input: unknown }, { abortSignal?: AbortSignal }?] }>;
    expect(calls.map((c) => c.args[0].input)).toEqual([{ Filters: { clusterIds: ['cluster-aaaaaaaaaaa'] } }]);
    expect(calls[0]?.args[1]?.abortSignal).toBe(abort.signal);
  });

  it('answers undefined for a cluster DescribeClusters does not list', async () => {
    cloudHsm.on(DESCRIBE_CLUSTERS).resolves({ Clusters: [] });
    expect(await adapter().hsmsOf('cluster-aaaaaaaaaaa')).toBeUndefined();
  });

  it('fails with what AWS said, once (no retries), and names the permission the proxy\'s role lacks', async () => {
    cloudHsm.on(DESCRIBE_CLUSTERS).rejects(new CloudHsmAccessDeniedException({ message: 'not authorized', ...meta }));
    const error = await failure(adapter().hsmsOf('cluster-aaaaaaaaaaa'));
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.message).toBe('AWS CloudHSM DescribeClusters of cluster-aaaaaaaaaaa: CloudHsmAccessDeniedException: not authorized (the XKS proxy\'s role needs cloudhsm:DescribeClusters: README, "Deploying to AWS")');
    expect(cloudHsm.commandCalls(DESCRIBE_CLUSTERS)).toHaveLength(1);
  });
});

describe('CloudHSM key stores in AWS KMS', () => {
  const settings = { name: 'hsm-store', cloudHsmClusterId: 'cluster-aaaaaaaaaaa', trustAnchorCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', keyStorePassword: PASSWORD };
  const kmsError = (name: string, message: string) => new KMSServiceException({ name, $fault: 'client', message, ...meta });

  it('sends the type, cluster, trust anchor and password, and answers the new store id', async () => {
    // Arrange
    kms.on(CreateCustomKeyStoreCommand).resolves({ CustomKeyStoreId: 'cks-0123456789abcdef0' });
    const adapter = new SdkAwsKms({ credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' }, retry: noWait });

    // Act
    const id = await adapter.createCloudHsmKeyStore(OWN_ACCOUNT, settings);

    // Assert
    expect(id).toBe('cks-0123456789abcdef0');
    expect(kms.commandCalls(CreateCustomKeyStoreCommand)[0].args[0].input).toEqual({
      CustomKeyStoreName: 'hsm-store', CustomKeyStoreType: 'AWS_CLOUDHSM', CloudHsmClusterId: 'cluster-aaaaaaaaaaa', TrustAnchorCertificate: settings.trustAnchorCertificate, KeyStorePassword: PASSWORD,
    });
  });

  it.each([
    ['CloudHsmClusterInUseException', ConflictError, 'aws_param.cloud_hsm_cluster_id'],
    ['CloudHsmClusterNotActiveException', ConflictError, 'aws_param.cloud_hsm_cluster_id'],
    ['CloudHsmClusterNotFoundException', ValidationError, 'aws_param.cloud_hsm_cluster_id'],
    ['IncorrectTrustAnchorException', ValidationError, 'aws_param.trust_anchor_certificate'],
    ['CloudHsmClusterInvalidConfigurationException', ValidationError, 'aws_param.cloud_hsm_cluster_id'],
  ] as const)('answers %s as %p naming %s', async (name, type, field) => {
    // Arrange
    kms.on(CreateCustomKeyStoreCommand).rejects(kmsError(name, 'refused'));
    const adapter = new SdkAwsKms({ credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' }, retry: noWait });

    // Act
    const error = await failure(adapter.createCloudHsmKeyStore(OWN_ACCOUNT, settings));

    // Assert
    expect(error).toBeInstanceOf(type);
    expect(error.message).toContain(field);
  });

  it('never lets the password through in an error message, also when AWS quotes it', async () => {
    // Arrange: a validation message that echoes the value (AWS does not; the guard is for any that would).
    kms.on(UpdateCustomKeyStoreCommand).rejects(kmsError('ValidationException', `1 validation error detected: Value '${PASSWORD}' at 'keyStorePassword' failed to satisfy constraint`));
    const adapter = new SdkAwsKms({ credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' }, retry: noWait });

    // Act
    const error = await failure(adapter.updateCloudHsmKeyStore(OWN_ACCOUNT, 'cks-0123456789abcdef0', { keyStorePassword: PASSWORD }));

    // Assert
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain('aws_param.key_store_password');
    expect(error.message).not.toContain(PASSWORD);
    expect(JSON.stringify(error.toJSON())).not.toContain(PASSWORD);
  });
});
