/**
 * CloudHSMv2 DescribeClusters through the real @aws-sdk/client-cloudhsm-v2 against the stand-in,
 * with local clusters made by ensureLocalCloudHsmCluster / createLocalCloudHsmCluster: the
 * cluster's shape (two ACTIVE HSMs in two zones, the cluster certificate issued by the trust
 * anchor), filters, paging, the API reference's limits, and the cluster surviving a restart.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudHSMV2Client, DescribeClustersCommand, paginateDescribeClusters } from '@aws-sdk/client-cloudhsm-v2';
import { startAwsStandIn, type AwsStandIn } from '../../../lambdas/local/aws-stand-in';
import { clusterHsms } from '../../../lambdas/local/aws-stand-in/cloudhsm/cluster-hsm';
import { clustersOf } from '../../../lambdas/local/aws-stand-in/cloudhsm/cluster-record';
import { createLocalCloudHsmCluster, ensureLocalCloudHsmCluster } from '../../../lambdas/local/aws-stand-in/cloudhsm/local-cluster';
import { ensureSoftHsmConfig } from '../../helpers/softhsm';

let dir: string;
let aws: AwsStandIn;
let client: CloudHSMV2Client;

async function start(): Promise<void> {
  aws = await startAwsStandIn({ stateDir: join(dir, 'aws'), xksProxyBaseUrl: 'https://127.0.0.1:9' });
  client = new CloudHSMV2Client({ endpoint: aws.endpointUrl, region: aws.region, credentials: aws, maxAttempts: 1 });
}

beforeAll(async () => {
  ensureSoftHsmConfig();
  dir = mkdtempSync(join(tmpdir(), 'cloudhsm-clusters-'));
  await start();
});

afterAll(async () => {
  client.destroy();
  await aws.stop();
});

const clusterOptions = () => ({ accountId: aws.accountId, region: aws.region, dir: join(dir, 'clusters') });

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

describe('DescribeClusters', () => {
  let localClusterId: string;

  it('describes the local cluster: ACTIVE, two ACTIVE HSMs in two zones, a cluster certificate issued by the trust anchor', async () => {
    // Arrange
    const local = await ensureLocalCloudHsmCluster(aws.state, clusterOptions());
    localClusterId = local.clusterId;
    // Act
    const { Clusters } = await client.send(new DescribeClustersCommand({ Filters: { clusterIds: [local.clusterId] } }));
    // Assert
    expect(Clusters).toHaveLength(1);
    const cluster = Clusters![0];
    expect(cluster).toMatchObject({ ClusterId: local.clusterId, State: 'ACTIVE', HsmType: 'hsm1.medium', BackupPolicy: 'DEFAULT' });
    expect(cluster.ClusterId).toMatch(/^cluster-[2-7a-z]{11}$/);
    expect(cluster.CreateTimestamp).toBeInstanceOf(Date);
    expect(cluster.Hsms!.map((hsm) => hsm.State)).toEqual(['ACTIVE', 'ACTIVE']);
    expect(new Set(cluster.Hsms!.map((hsm) => hsm.AvailabilityZone)).size).toBe(2);
    expect(Object.keys(cluster.SubnetMapping!).sort()).toEqual(cluster.Hsms!.map((hsm) => hsm.AvailabilityZone).sort());
    const anchor = new X509Certificate(readFileSync(local.trustAnchorCertificatePath));
    expect(new X509Certificate(cluster.Certificates!.ClusterCertificate!).verify(anchor.publicKey)).toBe(true);
    expect(statSync(join(dir, 'clusters', local.clusterId, 'kmsuser-password')).mode & 0o777).toBe(0o600);
    // The kmsuser password is the token's user PIN.
    const login = await clusterHsms().login({ customKeyStoreId: 'test', tokenLabel: clustersOf(aws.state.scope(aws.accountId, aws.region)).get(local.clusterId)!.tokenLabel, password: local.kmsuserPassword });
    expect(login).toEqual({ ready: true, message: 'ready' });
  });

  it('ensureLocalCloudHsmCluster returns the same cluster after a restart of the stand-in', async () => {
    const before = await ensureLocalCloudHsmCluster(aws.state, clusterOptions());
    await aws.stop();
    await start();
    const after = await ensureLocalCloudHsmCluster(aws.state, clusterOptions());
    expect(after).toEqual(before);
    expect(before.clusterId).toBe(localClusterId);
    const { Clusters } = await client.send(new DescribeClustersCommand({}));
    expect(Clusters!.map((cluster) => cluster.ClusterId)).toContain(before.clusterId);
  });

  it('filters by clusterIds, vpcIds and states, and pages with MaxResults and NextToken', async () => {
    // Arrange: two more clusters, one made from a backup of the local one (same VPC), one DEGRADED.
    const restored = await createLocalCloudHsmCluster(aws.state, { ...clusterOptions(), fromBackupOf: localClusterId });
    const other = await createLocalCloudHsmCluster(aws.state, clusterOptions());
    const clusters = clustersOf(aws.state.scope(aws.accountId, aws.region));
    clusters.put(other.clusterId, { ...clusters.get(other.clusterId)!, state: 'DEGRADED' });
    const vpcId = clusters.get(localClusterId)!.vpcId;
    // Act
    const all = [];
    for await (const page of paginateDescribeClusters({ client, pageSize: 1 }, {})) {
      expect(page.Clusters!.length).toBeLessThanOrEqual(1);
      all.push(...page.Clusters!);
    }
    const byVpc = await client.send(new DescribeClustersCommand({ Filters: { vpcIds: [vpcId] } }));
    const degraded = await client.send(new DescribeClustersCommand({ Filters: { states: ['DEGRADED'] } }));
    const both = await client.send(new DescribeClustersCommand({ Filters: { states: ['ACTIVE'], vpcIds: [vpcId] }, MaxResults: 1 }));
    // Assert
    expect(all.map((cluster) => cluster.ClusterId)).toEqual([localClusterId, restored.clusterId, other.clusterId]);
    expect(byVpc.Clusters!.map((cluster) => cluster.ClusterId)).toEqual([localClusterId, restored.clusterId]);
    expect(byVpc.Clusters![1].SourceBackupId).toMatch(/^backup-/);
    expect(byVpc.Clusters![1].Certificates!.ClusterCertificate).toBe(byVpc.Clusters![0].Certificates!.ClusterCertificate);
    expect(degraded.Clusters!.map((cluster) => cluster.ClusterId)).toEqual([other.clusterId]);
    expect(both.Clusters).toHaveLength(1);
    expect(both.NextToken).toBeDefined();
    const second = await client.send(new DescribeClustersCommand({ Filters: { states: ['ACTIVE'], vpcIds: [vpcId] }, MaxResults: 1, NextToken: both.NextToken }));
    expect(second.Clusters!.map((cluster) => cluster.ClusterId)).toEqual([restored.clusterId]);
    expect(second.NextToken).toBeUndefined();
  });

  it('refuses what the API reference refuses, naming the field', async () => {
    await expect(errorOf(client.send(new DescribeClustersCommand({ MaxResults: 26 })))).resolves.toMatchObject({ name: 'ValidationException', status: 400, message: expect.stringContaining("'maxResults'") });
    await expect(errorOf(client.send(new DescribeClustersCommand({ MaxResults: 0 })))).resolves.toMatchObject({ name: 'ValidationException' });
    await expect(errorOf(client.send(new DescribeClustersCommand({ Filters: { hsmIds: ['x'] } })))).resolves.toMatchObject({ name: 'CloudHsmInvalidRequestException', message: expect.stringContaining('hsmIds') });
    await expect(errorOf(client.send(new DescribeClustersCommand({ Filters: { states: ['RUNNING'] } })))).resolves.toMatchObject({ name: 'CloudHsmInvalidRequestException' });
    await expect(errorOf(client.send(new DescribeClustersCommand({ NextToken: 'bm90IGEgdG9rZW4=' })))).resolves.toMatchObject({ name: 'CloudHsmInvalidRequestException' });
  });

  it("keeps regions apart: a caller signing for another region sees none of these clusters", async () => {
    const { Clusters } = await new CloudHSMV2Client({ endpoint: aws.endpointUrl, region: 'eu-west-1', credentials: aws }).send(new DescribeClustersCommand({}));
    expect(Clusters).toEqual([]);
  });
});
