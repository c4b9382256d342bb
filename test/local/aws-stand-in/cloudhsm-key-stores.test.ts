/**
 * AWS_CLOUDHSM custom key stores of the local KMS through the real @aws-sdk/client-kms: the checks
 * CreateCustomKeyStore and UpdateCustomKeyStore make against the cluster, ConnectCustomKeyStore
 * logging in to the cluster's SoftHSM2 token as kmsuser, and keys whose AES-256 material lives in
 * that token (read back from the token with PKCS#11), so that a disconnected store or a key
 * deleted from the cluster really stops Encrypt.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
  UpdateCustomKeyStoreCommand,
  type CustomKeyStoresListEntry,
} from '@aws-sdk/client-kms';
import { clusterHsms } from '../../../lambdas/local/aws-stand-in/cloudhsm/cluster-hsm';
import { clustersOf } from '../../../lambdas/local/aws-stand-in/cloudhsm/cluster-record';
import { createLocalCloudHsmCluster, ensureLocalCloudHsmCluster, type LocalCluster } from '../../../lambdas/local/aws-stand-in/cloudhsm/local-cluster';
import { clusterObjectIdOf } from '../../../lambdas/local/aws-stand-in/kms/cloudhsm-origin';
import { ensureSoftHsmConfig } from '../../helpers/softhsm';
import { failureOf, standInFixture, type StandInFixture } from './stand-in-fixture';

const execFileAsync = promisify(execFile);

let aws: StandInFixture;
let local: LocalCluster;
let trustAnchor: string;

const clusterOptions = () => ({ accountId: aws.standIn.accountId, region: aws.standIn.region, dir: join(aws.stateDir, 'clusters') });
const clusters = () => clustersOf(aws.standIn.state.scope(aws.standIn.accountId, aws.standIn.region));

async function storeEntry(id: string): Promise<CustomKeyStoresListEntry> {
  const { CustomKeyStores } = await aws.kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }));
  return CustomKeyStores![0];
}

/** ConnectCustomKeyStore answers at once; the store leaves CONNECTING when the login is done. */
async function settled(id: string): Promise<CustomKeyStoresListEntry> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const entry = await storeEntry(id);
    if (entry.ConnectionState !== 'CONNECTING' && entry.ConnectionState !== 'DISCONNECTING') return entry;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`custom key store ${id} is still connecting`);
}

beforeAll(async () => {
  ensureSoftHsmConfig();
  aws = await standInFixture();
  local = await ensureLocalCloudHsmCluster(aws.standIn.state, clusterOptions());
  trustAnchor = readFileSync(local.trustAnchorCertificatePath, 'utf8');
});

afterAll(async () => {
  await aws?.stop();
});

describe('CreateCustomKeyStore (AWS_CLOUDHSM)', () => {
  const create = (fields: { clusterId?: string; trustAnchor?: string; password?: string; name?: string }) =>
    aws.kms.send(
      new CreateCustomKeyStoreCommand({
        CustomKeyStoreName: fields.name ?? `store-${Math.random()}`,
        CloudHsmClusterId: fields.clusterId ?? local.clusterId,
        TrustAnchorCertificate: fields.trustAnchor ?? trustAnchor,
        KeyStorePassword: fields.password ?? local.kmsuserPassword,
      }),
    );

  it('refuses a cluster that does not exist, is not ACTIVE, has HSMs in one zone only, or another trust anchor; creates nothing', async () => {
    // Arrange
    const other = await createLocalCloudHsmCluster(aws.standIn.state, clusterOptions());
    const oneZone = await createLocalCloudHsmCluster(aws.standIn.state, { ...clusterOptions(), hsmZones: ['us-east-1a', 'us-east-1a'] });
    const inactive = await createLocalCloudHsmCluster(aws.standIn.state, clusterOptions());
    clusters().put(inactive.clusterId, { ...clusters().get(inactive.clusterId)!, state: 'INITIALIZED' });
    // Act / Assert
    await expect(failureOf(create({ clusterId: 'cluster-doesnotexist' }))).resolves.toMatchObject({ name: 'CloudHsmClusterNotFoundException', status: 400 });
    await expect(failureOf(create({ clusterId: inactive.clusterId, trustAnchor: readFileSync(inactive.trustAnchorCertificatePath, 'utf8') }))).resolves.toMatchObject({ name: 'CloudHsmClusterNotActiveException' });
    await expect(failureOf(create({ clusterId: oneZone.clusterId, trustAnchor: readFileSync(oneZone.trustAnchorCertificatePath, 'utf8') }))).resolves.toMatchObject({ name: 'CloudHsmClusterInvalidConfigurationException' });
    await expect(failureOf(create({ trustAnchor: readFileSync(other.trustAnchorCertificatePath, 'utf8') }))).resolves.toMatchObject({ name: 'IncorrectTrustAnchorException' });
    await expect(failureOf(create({ trustAnchor: 'not a certificate' }))).resolves.toMatchObject({ name: 'IncorrectTrustAnchorException' });
    await expect(failureOf(create({ password: 'short' }))).resolves.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("'keyStorePassword'") });
    const { CustomKeyStores } = await aws.kms.send(new DescribeCustomKeyStoresCommand({}));
    expect(CustomKeyStores).toEqual([]);
  });

  describe('a store on the local cluster', () => {
    let storeId: string;
    let keyId: string;

    it('is created DISCONNECTED with the cluster and trust anchor, and no second store may use the cluster or its backup lineage', async () => {
      // Act: created with a wrong kmsuser password (KMS does not check it before connecting).
      ({ CustomKeyStoreId: storeId } = (await create({ name: 'cloudhsm-store', password: 'wrong-password' })) as { CustomKeyStoreId: string });
      const restored = await createLocalCloudHsmCluster(aws.standIn.state, { ...clusterOptions(), fromBackupOf: local.clusterId });
      // Assert
      expect(await storeEntry(storeId)).toMatchObject({
        CustomKeyStoreName: 'cloudhsm-store',
        CustomKeyStoreType: 'AWS_CLOUDHSM',
        CloudHsmClusterId: local.clusterId,
        TrustAnchorCertificate: trustAnchor,
        ConnectionState: 'DISCONNECTED',
      });
      expect(JSON.stringify(await aws.kms.send(new DescribeCustomKeyStoresCommand({})))).not.toContain('wrong-password');
      await expect(failureOf(create({}))).resolves.toMatchObject({ name: 'CloudHsmClusterInUseException' });
      await expect(failureOf(create({ clusterId: restored.clusterId }))).resolves.toMatchObject({ name: 'CloudHsmClusterInUseException' });
    });

    it('connects to FAILED / INVALID_CREDENTIALS with the wrong password, and to CONNECTED once the password is updated while DISCONNECTED', async () => {
      await aws.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
      expect(await settled(storeId)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'INVALID_CREDENTIALS' });
      // FAILED is not DISCONNECTED: the password cannot change yet.
      await expect(failureOf(aws.kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, KeyStorePassword: local.kmsuserPassword })))).resolves.toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
      await aws.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
      await settled(storeId);
      await aws.kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, KeyStorePassword: local.kmsuserPassword }));
      await aws.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
      const connected = await settled(storeId);
      expect(connected.ConnectionState).toBe('CONNECTED');
      expect(connected.ConnectionErrorCode).toBeUndefined();
    });

    it('while CONNECTED, the name may change but not the password or the cluster', async () => {
      await aws.kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, NewCustomKeyStoreName: 'cloudhsm-store-renamed' }));
      expect((await storeEntry(storeId)).CustomKeyStoreName).toBe('cloudhsm-store-renamed');
      await expect(failureOf(aws.kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, KeyStorePassword: 'another-password' })))).resolves.toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
      await expect(failureOf(aws.kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, CloudHsmClusterId: local.clusterId })))).resolves.toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    });

    it('CreateKey with Origin AWS_CLOUDHSM makes an AES-256 key in the cluster token, labelled with the KMS key id', async () => {
      // Act
      const { KeyMetadata } = await aws.kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, Description: 'in the cluster' }));
      keyId = KeyMetadata!.KeyId!;
      // Assert
      expect(KeyMetadata).toMatchObject({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, CloudHsmClusterId: local.clusterId, KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled' });
      const inToken = await clusterHsms().describeKey(
        { customKeyStoreId: 'test', tokenLabel: clusters().get(local.clusterId)!.tokenLabel, password: local.kmsuserPassword },
        clusterObjectIdOf(keyId),
      );
      expect(inToken).toMatchObject({ label: keyId, keyType: 'AES', sizeBits: 256 });
      expect(inToken!.attributes).toMatchObject({ CKA_SENSITIVE: true, CKA_EXTRACTABLE: false, CKA_ENCRYPT: true, CKA_DECRYPT: true, CKA_TOKEN: true });
    });

    it('Encrypt, Decrypt and GenerateDataKey use the key in the token', async () => {
      const context = { purpose: 'test' };
      const { CiphertextBlob } = await aws.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('hello cloudhsm'), EncryptionContext: context }));
      const { Plaintext, KeyId } = await aws.kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context }));
      expect(Buffer.from(Plaintext!).toString()).toBe('hello cloudhsm');
      expect(KeyId).toMatch(new RegExp(`key/${keyId}$`));
      await expect(failureOf(aws.kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: 'other' } })))).resolves.toMatchObject({ name: 'InvalidCiphertextException' });
      const dataKey = await aws.kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
      const unwrapped = await aws.kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }));
      expect(Buffer.from(unwrapped.Plaintext!)).toEqual(Buffer.from(dataKey.Plaintext!));
    });

    it('a key deleted from the cluster stops Encrypt and Decrypt (KMSInvalidStateException)', async () => {
      // Arrange
      const { KeyMetadata } = await aws.kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId }));
      const doomed = KeyMetadata!.KeyId!;
      const { CiphertextBlob } = await aws.kms.send(new EncryptCommand({ KeyId: doomed, Plaintext: Buffer.from('x') }));
      // Act: what a cluster administrator does with the CloudHSM CLI.
      await clusterHsms().destroyKey({ customKeyStoreId: 'admin', tokenLabel: clusters().get(local.clusterId)!.tokenLabel, password: local.kmsuserPassword }, clusterObjectIdOf(doomed));
      // Assert
      await expect(failureOf(aws.kms.send(new EncryptCommand({ KeyId: doomed, Plaintext: Buffer.from('x') })))).resolves.toMatchObject({ name: 'KMSInvalidStateException' });
      await expect(failureOf(aws.kms.send(new DecryptCommand({ CiphertextBlob })))).resolves.toMatchObject({ name: 'KMSInvalidStateException' });
    });

    it('after DisconnectCustomKeyStore, Encrypt is refused and the key is Unavailable; CreateKey in the store is refused', async () => {
      await aws.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
      expect((await settled(storeId)).ConnectionState).toBe('DISCONNECTED');
      await expect(failureOf(aws.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })))).resolves.toMatchObject({ name: 'KMSInvalidStateException' });
      expect((await aws.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState).toBe('Unavailable');
      await expect(failureOf(aws.kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId })))).resolves.toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    });

    it('moves only to a cluster of the same backup lineage, and connects there to the same keys', async () => {
      // Arrange
      const unrelated = await createLocalCloudHsmCluster(aws.standIn.state, clusterOptions());
      const restored = clusters().values().find((cluster) => cluster.sourceBackupId !== undefined && cluster.backupLineage === clusters().get(local.clusterId)!.backupLineage)!;
      // Act / Assert
      await expect(failureOf(aws.kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, CloudHsmClusterId: unrelated.clusterId })))).resolves.toMatchObject({ name: 'CloudHsmClusterNotRelatedException' });
      await expect(failureOf(aws.kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, CloudHsmClusterId: 'cluster-doesnotexist' })))).resolves.toMatchObject({ name: 'CloudHsmClusterNotFoundException' });
      await aws.kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, CloudHsmClusterId: restored.clusterId }));
      expect((await storeEntry(storeId)).CloudHsmClusterId).toBe(restored.clusterId);
      await aws.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
      expect((await settled(storeId)).ConnectionState).toBe('CONNECTED');
      const { CiphertextBlob } = await aws.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('after the move') }));
      expect(Buffer.from((await aws.kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe('after the move');
    });

    it('reports INSUFFICIENT_CLOUDHSM_HSMS when the cluster has no active HSM, refuses to connect while it is not ACTIVE, and reports CLUSTER_NOT_FOUND once it is deleted', async () => {
      const clusterId = (await storeEntry(storeId)).CloudHsmClusterId!;
      await aws.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
      await settled(storeId);
      const record = clusters().get(clusterId)!;
      clusters().put(clusterId, { ...record, hsms: record.hsms.map((hsm) => ({ ...hsm, state: 'DELETED' as const })) });
      await aws.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
      expect(await settled(storeId)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'INSUFFICIENT_CLOUDHSM_HSMS' });
      await aws.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
      await settled(storeId);
      clusters().put(clusterId, { ...record, state: 'UPDATE_IN_PROGRESS' });
      await expect(failureOf(aws.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).resolves.toMatchObject({ name: 'CloudHsmClusterNotActiveException' });
      expect((await storeEntry(storeId)).ConnectionState).toBe('DISCONNECTED');
      clusters().put(clusterId, { ...record, state: 'DELETED' });
      await aws.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
      expect(await settled(storeId)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'CLUSTER_NOT_FOUND' });
      clusters().put(clusterId, record);
      await aws.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
      await settled(storeId);
    });

    it('cannot be deleted while it holds keys', async () => {
      await expect(failureOf(aws.kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).resolves.toMatchObject({ name: 'CustomKeyStoreHasCMKsException' });
    });

    it('the AWS CLI sees the cluster and the store (aws cloudhsmv2 describe-clusters, aws kms describe-custom-key-stores)', async () => {
      const env = { ...process.env, AWS_ACCESS_KEY_ID: aws.standIn.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.standIn.secretAccessKey, AWS_DEFAULT_REGION: aws.standIn.region, AWS_SESSION_TOKEN: '' };
      const cli = async (...args: string[]) => JSON.parse((await execFileAsync('aws', [...args, '--endpoint-url', aws.standIn.endpointUrl, '--output', 'json'], { env })).stdout);
      const clustersSeen = await cli('cloudhsmv2', 'describe-clusters', '--filters', `clusterIds=${local.clusterId}`);
      expect(clustersSeen.Clusters.map((cluster: { ClusterId: string }) => cluster.ClusterId)).toEqual([local.clusterId]);
      const stores = await cli('kms', 'describe-custom-key-stores', '--custom-key-store-id', storeId);
      expect(stores.CustomKeyStores[0]).toMatchObject({ CustomKeyStoreType: 'AWS_CLOUDHSM', ConnectionState: 'DISCONNECTED' });
    });
  });
});
