/**
 * A StateBackend that provisions through the control plane: key stores, credentials and HYOK keys
 * are created, blocked, rotated and deleted by the real services (KeyStoreService,
 * KeyStoreCredentialService, HyokKeyService) on a real DynamoDB Local table, and the proxy reads
 * them through the real StateStoreXksStateSource. Keys are generated inside the SoftHSM2 token by
 * the HSM agent and registered as source-key records the way CreateHsmKey stores them (the account
 * container, partition and source-key records are seeded by test/helpers/key-fixtures.ts).
 */
import { randomBytes } from 'node:crypto';
import { StateStoreXksStateSource } from '../../../lambdas/core/state-store-xks-state-source';
import type { KeyAttributeName } from '../../../lambdas/contract/hsm';
import type { SecretStore } from '../../../lambdas/core/ports/secret-store';
import { admin, keyServices, seedAccount, seedHsmKey, seedPartition } from '../../helpers/key-fixtures';
import { createTestStateTable } from '../../helpers/state-table';
import { AES_ATTRIBUTES, REGION, type BackendFactory, type StateBackend } from './conformance-env';
import { attributesWith } from './fakes';

export interface ServicesBackendOptions {
  /**
   * Where the services keep secrets (XKS secret access keys; the token's PIN is copied in).
   * @default - the test token's in-memory SecretStore
   */
  readonly secrets?: SecretStore;
}

export const servicesBackend = (options: ServicesBackendOptions = {}): BackendFactory => async ({ token, agent }) => {
  const table = await createTestStateTable('xks');
  const state = table.store;
  const secrets = options.secrets ?? token.secretStore;
  if (options.secrets) await options.secrets.put(token.partition.pinSecretName, token.pin);
  // The token's agent makes the stores' health-check ciphertexts, so the proxy's deep check can open them.
  const services = keyServices(state, secrets, undefined, undefined, undefined, agent);
  const account = await seedAccount(state, { regions: [REGION] });
  // The partition record names the test token; its PIN is already in the token's SecretStore.
  const partition = await seedPartition(state, { id: token.partition.partitionId, tokenLabel: token.partition.tokenLabel });

  /** An AES-256 key generated in the token, registered as a source key; returns the record id. */
  const newSourceKey = async (attributes: readonly KeyAttributeName[]): Promise<string> => {
    const objectId = randomBytes(16).toString('hex');
    const info = await agent.generateKey(token.partition, { objectId, label: `xks-${objectId.slice(0, 8)}`, sizeBits: 256, attributes: attributesWith(attributes) });
    return (await seedHsmKey(state, partition.id, info)).id;
  };

  const backend: StateBackend = {
    source: new StateStoreXksStateSource(state),
    stateTableName: table.tableName,
    async createStore(options) {
      const created = await services.keyStores.create(admin('keystoreadd'), {
        name: `store-${randomBytes(4).toString('hex')}`,
        kms: account.name,
        region: REGION,
        enable_success_audit_event: options.enableSuccessAuditEvent ?? true,
        local_hosted_params: { partition_id: partition.id, health_check_key_id: await newSourceKey(AES_ATTRIBUTES), max_credentials: 5, mtls_enabled: options.mtlsEnabled ?? false },
        aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
      });
      return { storeId: created.id, region: REGION, credentials: [{ accessKeyId: created.access_key_id, secretAccessKey: created.secret_access_key }] };
    },
    async createKey(storeId, attributes = AES_ATTRIBUTES) {
      const key = await services.hyokKeys.create(admin('hyokkeycreate'), { local_hosted_params: { source_key_id: await newSourceKey(attributes), custom_key_store_id: storeId } });
      return key.aws_param.XksKeyConfiguration.Id;
    },
    async setStoreBlocked(storeId, blocked) {
      await (blocked ? services.keyStores.block(admin('keystoreblock'), storeId) : services.keyStores.unblock(admin('keystoreunblock'), storeId));
    },
    async setKeyBlocked(_storeId, externalKeyId, blocked) {
      await (blocked ? services.hyokKeys.block(admin('hyokkeyblockunblock'), externalKeyId) : services.hyokKeys.unblock(admin('hyokkeyblockunblock'), externalKeyId));
    },
    async rotateKey(_storeId, externalKeyId) {
      await services.hyokKeys.rotate(admin('keyrotate'), externalKeyId, { source_key_id: await newSourceKey(AES_ATTRIBUTES) });
    },
    async addCredential(storeId) {
      const created = await services.credentials.create(admin('keystoreupdate'), storeId);
      return { accessKeyId: created.access_key_id, secretAccessKey: created.secret_access_key };
    },
    async deleteCredential(storeId, accessKeyId) {
      const listed = await services.credentials.list(admin('viewkeystore'), storeId, {});
      const credential = listed.resources.find((c) => c.access_key_id === accessKeyId);
      if (!credential) throw new Error(`no credential ${accessKeyId} in ${storeId}`);
      await services.credentials.delete(admin('keystoreupdate'), storeId, credential.id);
    },
    dispose: () => table.dispose(),
  };
  return backend;
};
