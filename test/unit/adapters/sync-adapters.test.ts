/**
 * The adapters synchronization adds, against aws-sdk-client-mock: the SQS job queue (batches of
 * 10, delay, the unit as JSON, refused entries sent again once, then a 503) and the AWS KMS reads
 * only synchronization makes (GetKeyRotationStatus, unsupported for some keys; DescribeCustomKeyStores
 * paged without an id; ListKeys throttled until the retries run out).
 */
import { DescribeCustomKeyStoresCommand, GetKeyRotationStatusCommand, KMSClient, ListKeysCommand, UnsupportedOperationException } from '@aws-sdk/client-kms';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { SdkAwsKms } from '../../../lambdas/adapters/aws/kms-sdk';
import { parseQueueUrls, SqsJobQueue } from '../../../lambdas/adapters/aws/sqs-job-queue';
import { ServiceUnavailableError } from '../../../lambdas/core/errors';
import type { KmsLocation } from '../../../lambdas/core/ports/aws-kms';
import type { JobUnit } from '../../../lambdas/core/ports/job-queue';

const sqs = mockClient(SQSClient);
const kms = mockClient(KMSClient);
const meta = { $metadata: {} };
const AT: KmsLocation = { containerId: 'c1', accountId: '111122223333', region: 'eu-west-1' };
const URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/units';
const unit = (n: number): JobUnit => ({ jobId: 'job-1', kind: 'AwsKeySynchronization', accountId: 'c1', region: `r-${n}`, phase: 'start', attempt: 0 });

beforeEach(() => {
  sqs.reset();
  kms.reset();
});

describe('SqsJobQueue', () => {
  it('sends units in batches of 10 to their kind\'s queue, as JSON, with the delay', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ ...meta, Successful: [], Failed: [] });
    const queue = new SqsJobQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrls: { AwsKeySynchronization: URL } });

    await queue.send(Array.from({ length: 23 }, (_, i) => unit(i)), { delaySeconds: 4 });

    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls.every((c) => c.QueueUrl === URL)).toBe(true);
    expect(JSON.parse(calls[2].Entries![0].MessageBody!)).toEqual(unit(20));
    expect(calls[0].Entries![0].DelaySeconds).toBe(4);
  });

  it('sends refused entries once more, then answers 503', async () => {
    sqs.on(SendMessageBatchCommand).resolvesOnce({ ...meta, Successful: [], Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }] }).resolves({ ...meta, Successful: [], Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }] });
    const queue = new SqsJobQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrls: { AwsKeySynchronization: URL } });

    await expect(queue.send([unit(0), unit(1)])).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(sqs.commandCalls(SendMessageBatchCommand)[1].args[0].input.Entries?.map((e) => e.Id)).toEqual(['1']);
  });

  it('refuses a kind without a queue, and reads JOB_QUEUE_URLS', async () => {
    const queue = new SqsJobQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrls: parseQueueUrls(JSON.stringify({ KeyStoreSynchronization: URL })) });
    await expect(queue.send([unit(0)])).rejects.toThrow(/No queue for AwsKeySynchronization jobs/);
    expect(() => parseQueueUrls('[]')).toThrow(/JSON object/);
  });
});

describe('SdkAwsKms reads of synchronization', () => {
  const adapter = (): SdkAwsKms => new SdkAwsKms({ credentials: { accessKeyId: 'AKIADEPLOYMENT', secretAccessKey: 'secret' }, retry: { sleep: async () => undefined } });

  it('GetKeyRotationStatus: true or false, and undefined where AWS KMS cannot rotate the key', async () => {
    kms.on(GetKeyRotationStatusCommand, { KeyId: 'a' }).resolves({ ...meta, KeyRotationEnabled: true });
    kms.on(GetKeyRotationStatusCommand, { KeyId: 'x' }).rejects(new UnsupportedOperationException({ message: 'origin is EXTERNAL_KEY_STORE which is not valid for this operation.', $metadata: {} }));
    await expect(adapter().getKeyRotationStatus(AT, 'a')).resolves.toBe(true);
    await expect(adapter().getKeyRotationStatus(AT, 'x')).resolves.toBeUndefined();
  });

  it('DescribeCustomKeyStores without an id, one page with the marker to go on', async () => {
    kms.on(DescribeCustomKeyStoresCommand).resolves({ ...meta, Truncated: true, NextMarker: 'm2', CustomKeyStores: [{ CustomKeyStoreId: 'cks-1', CustomKeyStoreName: 'n', CustomKeyStoreType: 'EXTERNAL_KEY_STORE', ConnectionState: 'CONNECTED', XksProxyConfiguration: { AccessKeyId: 'AK', UriEndpoint: 'https://x.example.com', UriPath: '/kms/xks/v1', Connectivity: 'PUBLIC_ENDPOINT' } }] });
    const page = await adapter().listCustomKeyStoresPage(AT, { marker: 'm1', limit: 50 });
    expect(page).toEqual({ nextMarker: 'm2', stores: [expect.objectContaining({ customKeyStoreId: 'cks-1', connectionState: 'CONNECTED', xksProxy: expect.objectContaining({ uriEndpoint: 'https://x.example.com' }) })] });
    expect(kms.commandCalls(DescribeCustomKeyStoresCommand)[0].args[0].input).toEqual({ Marker: 'm1', Limit: 50 });
  });

  it('ListKeys throttled past the retries is a 503, which the job runner treats as transient', async () => {
    kms.on(ListKeysCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const { isTransient } = await import('../../../lambdas/core/jobs/job-runner');
    const error = await adapter().listKeys(AT, { limit: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(isTransient(error)).toBe(true);
    expect(kms.commandCalls(ListKeysCommand).length).toBeGreaterThan(1);
  });
});
