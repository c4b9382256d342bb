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
  CustomKeyStoreConnectionState,
  CustomKeyStoreStatus,
  ExternalKeyStoreChanges,
  ExternalKeyStoreSettings,
  KmsKeyDescription,
  KmsKeyPage,
  KmsLocation,
} from '../../lambdas/core/ports/aws-kms';

interface FakeStore {
  settings: ExternalKeyStoreSettings;
  state: CustomKeyStoreConnectionState;
  keys: number;
  at: KmsLocation;
}

export class FakeAwsKms implements AwsKms {
  readonly stores = new Map<string, FakeStore>();
  readonly calls: string[] = [];
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

  async describeCustomKeyStore(_at: KmsLocation, customKeyStoreId: string): Promise<CustomKeyStoreStatus | undefined> {
    this.enter('describeCustomKeyStore');
    const store = this.stores.get(customKeyStoreId);
    if (store === undefined) return undefined;
    const { settings } = store;
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
    this.require(customKeyStoreId).state = 'CONNECTED';
  }

  async disconnectCustomKeyStore(_at: KmsLocation, customKeyStoreId: string): Promise<void> {
    this.enter('disconnectCustomKeyStore');
    this.require(customKeyStoreId).state = 'DISCONNECTED';
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
