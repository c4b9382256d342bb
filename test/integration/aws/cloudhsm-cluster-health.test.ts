/**
 * Per-HSM health of a CloudHSM cluster end to end: the proxy's GetHealthStatus for a store whose
 * `cloudhsm` partition names its cluster, with the PKCS#11 check run on the cluster's token
 * (SoftHSM2, the local cluster of the AWS stand-in, loaded as the cloudhsm library) and the HSM
 * states read through the production adapter (SdkCloudHsmClusterHsms, the real
 * @aws-sdk/client-cloudhsm-v2) from the stand-in's DescribeClusters, while one of the cluster's
 * two HSMs degrades, starts being deleted and is gone; and with the API out of reach.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdkCloudHsmClusterHsms } from '../../../lambdas/adapters/aws/cloudhsm-sdk';
import { AGENT_CALL_TIMEOUT_MS, DEFAULT_PKCS11_LIBRARIES, pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import { Pkcs11KeyCrypto } from '../../../lambdas/adapters/pkcs11/key-crypto';
import { terminatePkcs11Workers } from '../../../lambdas/adapters/pkcs11/module';
import type { HsmKeyRef, PartitionConnection } from '../../../lambdas/contract/hsm';
import type { CloudHsmClusterHsms } from '../../../lambdas/core/ports/cloudhsm-clusters';
import { clustersOf, type CloudHsmClusterRecord, type HsmState } from '../../../lambdas/local/aws-stand-in/cloudhsm/cluster-record';
import { createLocalCloudHsmCluster } from '../../../lambdas/local/aws-stand-in/cloudhsm/local-cluster';
import { healthBody } from '../../xks/support/bodies';
import { operationPath, proxyFixture, STORE_ID } from '../../xks/support/proxy-fixture';
import { ensureSoftHsmConfig, MemorySecretStore } from '../../helpers/softhsm';
import { standInFixture, type StandInFixture } from '../../local/aws-stand-in/stand-in-fixture';
import { keyRequest } from '../pkcs11/fixtures';

let aws: StandInFixture;
let clusterId: string;
let partition: PartitionConnection;
let healthCheckKey: HsmKeyRef;
let keyCrypto: Pkcs11KeyCrypto;
const failures: string[] = [];

/** The cluster's record in the stand-in, changed as AWS would change it (an HSM failing, DeleteHsm). */
function changeCluster(change: (record: CloudHsmClusterRecord) => void): void {
  const clusters = clustersOf(aws.standIn.state.scope(aws.standIn.accountId, aws.standIn.region));
  const record = clusters.get(clusterId);
  if (record === undefined) throw new Error(`no cluster ${clusterId} in the stand-in`);
  change(record);
  clusters.put(clusterId, record);
}

function setSecondHsm(state: HsmState): void {
  changeCluster((record) => {
    record.hsms[1]!.state = state;
  });
}

/** A proxy whose every GetHealthStatus refreshes (maxAgeMs 0), reading the cluster's HSMs through `clusters`. */
function clusterProxy(clusters: CloudHsmClusterHsms) {
  // Wider bounds than on AWS (as the local runner's): SoftHSM2's first session and the first HTTP
  // call share a busy machine, and a slow check would read DEGRADED.
  const fixture = proxyFixture(
    { requestTimeoutMs: 5_000, health: { maxAgeMs: 0, degradedAfterMs: 5_000, cloudHsm: { clusters, waitMs: 3_000, onLookupFailed: (id, error) => failures.push(`${id}: ${error.message}`) } } },
    { keyCrypto },
  );
  fixture.state.updateKeyStore(STORE_ID, { partition, healthCheckKey, cloudHsmClusterId: clusterId });
  return fixture;
}

async function fleetOf(fixture: ReturnType<typeof clusterProxy>): Promise<{ fleet: string[][]; vendor: string }> {
  const { status, json } = await fixture.call(operationPath('health'), healthBody());
  expect(status).toBe(200);
  return { fleet: json.ekmFleetDetails.map((entry: { id: string; healthStatus: string }) => [entry.id, entry.healthStatus]), vendor: json.ekmVendor };
}

beforeAll(async () => {
  ensureSoftHsmConfig();
  aws = await standInFixture();
  const cluster = await createLocalCloudHsmCluster(aws.standIn.state, { accountId: aws.standIn.accountId, region: aws.standIn.region, dir: mkdtempSync(join(tmpdir(), 'cluster-health-')) });
  clusterId = cluster.clusterId;
  let tokenLabel = '';
  changeCluster((record) => {
    tokenLabel = record.tokenLabel;
  });
  // A cloudhsm partition on the cluster's token: SoftHSM2 stands in for the CloudHSM client's library, and makes its IVs from its RNG.
  const partitionId = `partition-${randomBytes(4).toString('hex')}`;
  partition = { partitionId, hsmType: 'cloudhsm', tokenLabel, pinSecretName: `xks-key-manager/hsm-pin/${partitionId}`, gcmIvConvention: 'caller-hsm-rng' };
  const secrets = new MemorySecretStore();
  await secrets.put(partition.pinSecretName, cluster.kmsuserPassword);
  const libraries = { cloudhsm: DEFAULT_PKCS11_LIBRARIES.softhsm };
  const request = keyRequest(undefined, 'health-check');
  await new Pkcs11HsmAgent(pkcs11Config({ libraries, callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), secrets).generateKey(partition, request);
  healthCheckKey = { partition, objectId: request.objectId };
  keyCrypto = new Pkcs11KeyCrypto(pkcs11Config({ libraries, callTimeoutMs: 5_000 }), secrets);
});

afterAll(async () => {
  await aws?.stop();
  // cloudhsm partitions make their PKCS#11 calls on worker threads.
  await terminatePkcs11Workers();
});

it("lists the cluster's two HSMs by id, each with the state DescribeClusters gives it, as one degrades, starts being deleted and is gone", async () => {
  // Arrange
  const adapter = new SdkCloudHsmClusterHsms({ endpoint: aws.standIn.endpointUrl, region: aws.standIn.region, credentials: aws.standIn });
  const fixture = clusterProxy(adapter);
  const hsmIds: string[] = [];
  changeCluster((record) => hsmIds.push(...record.hsms.map((hsm) => hsm.hsmId)));
  const [first, second] = hsmIds;

  // Act and Assert: both HSMs ACTIVE, and the PKCS#11 check on the cluster's slot passed
  const active = await fleetOf(fixture);
  expect(active.fleet).toEqual([[first, 'ACTIVE'], [second, 'ACTIVE']]);
  expect(active.vendor).toBe('Amazon Web Services');

  setSecondHsm('DEGRADED');
  expect((await fleetOf(fixture)).fleet).toEqual([[first, 'ACTIVE'], [second, 'DEGRADED']]);

  setSecondHsm('DELETE_IN_PROGRESS');
  expect((await fleetOf(fixture)).fleet).toEqual([[first, 'ACTIVE'], [second, 'UNAVAILABLE']]);

  // DeleteHsm done: AWS no longer lists the HSM.
  changeCluster((record) => {
    record.hsms = record.hsms.slice(0, 1);
  });
  expect((await fleetOf(fixture)).fleet).toEqual([[first, 'ACTIVE']]);
  expect(failures).toEqual([]);
});

it('reports the serving cluster as one entry, and why, when the CloudHSM API is out of reach', async () => {
  // Arrange: nothing listens at that address.
  const fixture = clusterProxy(new SdkCloudHsmClusterHsms({ endpoint: 'http://127.0.0.1:1', region: aws.standIn.region, credentials: aws.standIn }));
  // Act
  const { fleet } = await fleetOf(fixture);
  // Assert
  expect(fleet).toEqual([[clusterId, 'ACTIVE']]);
  expect(failures).toEqual([expect.stringMatching(new RegExp(`^${clusterId}: AWS CloudHSM DescribeClusters of ${clusterId}: `))]);
});
