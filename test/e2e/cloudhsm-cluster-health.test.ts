/**
 * Local mode as `npm start` runs it (bin/local.ts), wired for the per-HSM health of a CloudHSM
 * cluster: a `cloudhsm` partition on the local cluster's token (SoftHSM2 loaded as the cloudhsm
 * library) that names the cluster, an external key store on it, and the proxy's GetHealthStatus
 * listing the cluster's HSMs as the stand-in's DescribeClusters reports them.
 */
import { CloudHSMV2Client, DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import { randomBytes } from 'node:crypto';
import { DEFAULT_PKCS11_LIBRARIES } from '../../lambdas/adapters/pkcs11/config';
import { ENV } from '../../lambdas/contract/env';
import { adminApi, startLocalSystem, type LocalSystem } from '../helpers/local-system';
import { healthBody } from '../xks/support/bodies';
import { timeUntil } from '../xks/support/poll';
import { curlSigV4Args, runCurl } from '../xks/support/signing';

let system: LocalSystem;
const libraryBefore = process.env[ENV.pkcs11LibraryCloudhsm];

beforeAll(async () => {
  // The runner inherits this process's environment: its proxy and HSM agent load SoftHSM2 for cloudhsm partitions.
  process.env[ENV.pkcs11LibraryCloudhsm] = DEFAULT_PKCS11_LIBRARIES.softhsm;
  system = await startLocalSystem();
}, 180_000);

afterAll(async () => {
  await system?.stop();
  if (libraryBefore === undefined) delete process.env[ENV.pkcs11LibraryCloudhsm];
  else process.env[ENV.pkcs11LibraryCloudhsm] = libraryBefore;
});

it("lists the local cluster's HSMs by id in GetHealthStatus for a store on a cloudhsm partition that names the cluster", async () => {
  // Arrange: the cluster's HSMs as AWS lists them, and a store on a partition of its token.
  const api = adminApi(system);
  const { clusterId, kmsuserPassword } = system.cloudHsm;
  const cloudHsm = new CloudHSMV2Client({ endpoint: system.aws.endpointUrl, region: system.aws.region, credentials: system.aws, maxAttempts: 1 });
  const { Clusters } = await cloudHsm.send(new DescribeClustersCommand({ Filters: { clusterIds: [clusterId] } }));
  cloudHsm.destroy();
  const hsmIds = (Clusters?.[0]?.Hsms ?? []).map((hsm) => hsm.HsmId);
  expect(hsmIds).toHaveLength(2);
  const suffix = randomBytes(3).toString('hex');
  const account = await api('POST', '/v1/cckm/aws/kms', { name: `chsm-${suffix}`, account_id: system.aws.accountId, regions: [system.aws.region] }, 201);
  const partition = await api(
    'POST',
    '/v1/cckm/hsm/partitions',
    { name: `cluster-${suffix}`, hsm_type: 'cloudhsm', token_label: `chsm-${clusterId}`, pin: kmsuserPassword, gcm_iv_convention: 'caller-hsm-rng', cloudhsm_cluster_id: clusterId },
    201,
  );
  expect(partition.cloudhsm_cluster_id).toBe(clusterId);
  const healthCheckKey = await api(
    'POST',
    '/v1/cckm/hsm/keys',
    { partition_id: partition.id, label: `health-${suffix}`, mechanism: 'CKM_AES_KEY_GEN', size: 256, attributes: ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE'] },
    201,
  );
  const store = await api(
    'POST',
    '/v1/cckm/aws/custom-key-stores',
    {
      name: `chsm-store-${suffix}`,
      kms: account.name,
      region: system.aws.region,
      local_hosted_params: { partition_id: partition.id, health_check_key_id: healthCheckKey.id, max_credentials: 2 },
      aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
    },
    201,
  );
  const health = async (): Promise<string[][]> => {
    const { status, body } = await runCurl(
      curlSigV4Args({
        url: `${system.xksUrl}${store.aws_param.xks_proxy_uri_path}/health`,
        region: system.aws.region,
        credential: { accessKeyId: store.access_key_id, secretAccessKey: store.secret_access_key },
        body: JSON.stringify(healthBody()),
        caCertPath: system.xksCaCert,
      }),
    );
    expect(status).toBe(200);
    return JSON.parse(body).ekmFleetDetails.map((entry: { id: string; healthStatus: string }) => [entry.id, entry.healthStatus]);
  };

  // Act: the first refresh may list the cluster as one entry (DescribeClusters slower than the
  // refresh waits for it on this busy machine); the next refresh, within 15 s, has its answer.
  let fleet: string[][] = [];
  await timeUntil(async () => {
    fleet = await health();
    return fleet.length === 2;
  }, 40_000, 1_000);

  // Assert
  expect(fleet).toEqual(hsmIds.map((id) => [id, expect.stringMatching(/^(ACTIVE|DEGRADED)$/)]));
}, 120_000);
