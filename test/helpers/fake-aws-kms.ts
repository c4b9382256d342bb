/**
 * An in-memory AwsKms for service tests: custom key stores per account and region with AWS KMS's
 * rules the services rely on (names unique, connect/disconnect state changes, endpoint changes
 * only while DISCONNECTED, delete refused while connected or while keys are in the store). Tests
 * queue failures with `failNext`. Integration tests use the real adapter against the local AWS
 * stand-in instead.
 */
import { ConflictError, ValidationError } from '../../lambdas/core/errors';
import type {
  AwsKms,
  CloudHsmKeyStoreChanges,
  CloudHsmKeyStoreSettings,
  CustomKeyStoreConnectionState,
  CustomKeyStoreStatus,
  ExternalKeyStoreChanges,
  ExternalKeyStoreSettings,
  KmsKeyDescription,
  KmsKeyPage,
  KmsLocation,
} from '../../lambdas/core/ports/aws-kms';

interface FakeStore {
  /** External key stores' settings (a CloudHSM store's name lives here too, its other settings are unused). */
  settings: ExternalKeyStoreSettings;
  /** CloudHSM key stores only. */
  cloudHsm?: CloudHsmKeyStoreSettings;
  state: CustomKeyStoreConnectionState;
  errorCode?: string;
  keys: number;
  at: KmsLocation;
}

export class FakeAwsKms implements AwsKms {
  readonly stores = new Map<string, FakeStore>();
  readonly calls: string[] = [];
  /** CloudHSM clusters by id and their kmsuser password: connecting with another password is FAILED / INVALID_CREDENTIALS. */
  readonly clusters = new Map<string, { kmsuserPassword: string }>();
  private readonly failures: Array<{ operation: string; error: Error; always?: boolean }> = [];
  private next = 0;

  /** The next call of `operation` fails with `error`. */
  failNext(operation: string, error: Error): this {
    this.failures.push({ operation, error });
    return this;
  }

  /** Every call of `operation` fails with `error`. */
  failAlways(operation: string, error: Error): this {
    this.failures.push({ operation, error, always: true });
    return this;
  }

  async createExternalKeyStore(at: KmsLocation, settings: ExternalKeyStoreSettings): Promise<string> {
    this.enter('createExternalKeyStore');
    if ([...this.stores.values()].some((s) => s.at.accountId === at.accountId && s.at.region === at.region && s.settings.name === settings.name)) {
      throw new ConflictError(`name: AWS KMS CreateCustomKeyStore: CustomKeyStoreNameInUseException: ${settings.name}`);
    }
    const id = `cks-${(this.next++).toString(16).padStart(17, '0')}`;
    this.stores.set(id, { settings, state: 'DISCONNECTED', keys: 0, at });
    return id;
  }

  async createCloudHsmKeyStore(at: KmsLocation, settings: CloudHsmKeyStoreSettings): Promise<string> {
    this.enter('createCloudHsmKeyStore');
    if (!this.clusters.has(settings.cloudHsmClusterId)) throw new ValidationError(`AWS KMS CreateCustomKeyStore: CloudHsmClusterNotFoundException: ${settings.cloudHsmClusterId}`, 'aws_param.cloud_hsm_cluster_id');
    if ([...this.stores.values()].some((s) => s.cloudHsm?.cloudHsmClusterId === settings.cloudHsmClusterId)) {
      throw new ConflictError(`aws_param.cloud_hsm_cluster_id: AWS KMS CreateCustomKeyStore: CloudHsmClusterInUseException: ${settings.cloudHsmClusterId}`);
    }
    if ([...this.stores.values()].some((s) => s.at.accountId === at.accountId && s.at.region === at.region && s.settings.name === settings.name)) {
      throw new ConflictError(`name: AWS KMS CreateCustomKeyStore: CustomKeyStoreNameInUseException: ${settings.name}`);
    }
    const id = `cks-${(this.next++).toString(16).padStart(17, '0')}`;
    const none = { uriEndpoint: '', uriPath: '', connectivity: 'PUBLIC_ENDPOINT' as const, credential: { accessKeyId: '', rawSecretAccessKey: '' } };
    this.stores.set(id, { settings: { name: settings.name, ...none }, cloudHsm: { ...settings }, state: 'DISCONNECTED', keys: 0, at });
    return id;
  }

  async updateCloudHsmKeyStore(_at: KmsLocation, customKeyStoreId: string, changes: CloudHsmKeyStoreChanges): Promise<void> {
    this.enter('updateCloudHsmKeyStore');
    const store = this.require(customKeyStoreId);
    if ((changes.cloudHsmClusterId !== undefined || changes.keyStorePassword !== undefined) && store.state !== 'DISCONNECTED') {
      throw new ConflictError('AWS KMS UpdateCustomKeyStore: CustomKeyStoreInvalidStateException: must be DISCONNECTED');
    }
    if (changes.name !== undefined) store.settings = { ...store.settings, name: changes.name };
    store.cloudHsm = { ...(store.cloudHsm as CloudHsmKeyStoreSettings), ...changes };
  }

  async listCustomKeyStores(at: KmsLocation): Promise<CustomKeyStoreStatus[]> {
    this.enter('listCustomKeyStores');
    const ids = [...this.stores.entries()].filter(([, s]) => s.at.accountId === at.accountId && s.at.region === at.region).map(([id]) => id);
    return ids.map((id) => this.statusOf(id, this.stores.get(id) as FakeStore));
  }

  /** One page holding every store (the fake does not page). */
  async listCustomKeyStoresPage(at: KmsLocation): Promise<{ stores: CustomKeyStoreStatus[] }> {
    this.enter('listCustomKeyStoresPage');
    const ids = [...this.stores.entries()].filter(([, s]) => s.at.accountId === at.accountId && s.at.region === at.region).map(([id]) => id);
    return { stores: ids.map((id) => this.statusOf(id, this.stores.get(id) as FakeStore)) };
  }

  async describeCustomKeyStore(_at: KmsLocation, customKeyStoreId: string): Promise<CustomKeyStoreStatus | undefined> {
    this.enter('describeCustomKeyStore');
    const store = this.stores.get(customKeyStoreId);
    return store === undefined ? undefined : this.statusOf(customKeyStoreId, store);
  }

  private statusOf(customKeyStoreId: string, store: FakeStore): CustomKeyStoreStatus {
    const { settings } = store;
    if (store.cloudHsm !== undefined) {
      return {
        customKeyStoreId,
        name: settings.name,
        type: 'AWS_CLOUDHSM',
        connectionState: store.state,
        ...(store.errorCode === undefined ? {} : { connectionErrorCode: store.errorCode }),
        cloudHsmClusterId: store.cloudHsm.cloudHsmClusterId,
      };
    }
    return {
      customKeyStoreId,
      name: settings.name,
      type: 'EXTERNAL_KEY_STORE',
      connectionState: store.state,
      xksProxy: {
        accessKeyId: settings.credential.accessKeyId,
        uriEndpoint: settings.uriEndpoint,
        uriPath: settings.uriPath,
        connectivity: settings.connectivity,
        ...(settings.vpcEndpointServiceName ? { vpcEndpointServiceName: settings.vpcEndpointServiceName } : {}),
      },
    };
  }

  async updateExternalKeyStore(_at: KmsLocation, customKeyStoreId: string, changes: ExternalKeyStoreChanges): Promise<void> {
    this.enter('updateExternalKeyStore');
    const store = this.require(customKeyStoreId);
    const network = changes.uriEndpoint !== undefined || changes.connectivity !== undefined || changes.vpcEndpointServiceName !== undefined;
    if (network && store.state !== 'DISCONNECTED') throw new ConflictError('AWS KMS UpdateCustomKeyStore: CustomKeyStoreInvalidStateException: must be DISCONNECTED');
    store.settings = { ...store.settings, ...changes };
  }

  async connectCustomKeyStore(_at: KmsLocation, customKeyStoreId: string): Promise<void> {
    this.enter('connectCustomKeyStore');
    const store = this.require(customKeyStoreId);
    if (store.state === 'FAILED') throw new ConflictError('AWS KMS ConnectCustomKeyStore: CustomKeyStoreInvalidStateException: disconnect a FAILED store first');
    const cluster = store.cloudHsm === undefined ? undefined : this.clusters.get(store.cloudHsm.cloudHsmClusterId);
    if (store.cloudHsm !== undefined && cluster?.kmsuserPassword !== store.cloudHsm.keyStorePassword) {
      store.state = 'FAILED';
      store.errorCode = cluster === undefined ? 'CLUSTER_NOT_FOUND' : 'INVALID_CREDENTIALS';
      return;
    }
    store.state = 'CONNECTED';
    delete store.errorCode;
  }

  async disconnectCustomKeyStore(_at: KmsLocation, customKeyStoreId: string): Promise<void> {
    this.enter('disconnectCustomKeyStore');
    const store = this.require(customKeyStoreId);
    store.state = 'DISCONNECTED';
    delete store.errorCode;
  }

  async deleteCustomKeyStore(_at: KmsLocation, customKeyStoreId: string): Promise<void> {
    this.enter('deleteCustomKeyStore');
    const store = this.stores.get(customKeyStoreId);
    if (store === undefined) return;
    if (store.state !== 'DISCONNECTED') throw new ConflictError('AWS KMS DeleteCustomKeyStore: CustomKeyStoreInvalidStateException: disconnect it first');
    if (store.keys > 0) throw new ConflictError(`AWS KMS refuses to delete custom key store ${customKeyStoreId}: it still has ${store.keys} KMS key(s) in it`);
    this.stores.delete(customKeyStoreId);
  }

  async listKeys(): Promise<KmsKeyPage> {
    this.enter('listKeys');
    return { keyIds: [] };
  }

  async describeKey(_at: KmsLocation, keyId: string): Promise<KmsKeyDescription> {
    this.enter('describeKey');
    throw new ValidationError(`no key ${keyId}`);
  }

  private enter(operation: string): void {
    this.calls.push(operation);
    const i = this.failures.findIndex((f) => f.operation === operation);
    if (i >= 0) throw this.failures[i].always ? this.failures[i].error : this.failures.splice(i, 1)[0].error;
  }

  private require(customKeyStoreId: string): FakeStore {
    const store = this.stores.get(customKeyStoreId);
    if (store === undefined) throw new ConflictError(`aws_param.custom_key_store_id: AWS KMS: CustomKeyStoreNotFoundException: ${customKeyStoreId}`);
    return store;
  }
}
