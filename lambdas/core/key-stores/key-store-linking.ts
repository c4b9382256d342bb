/**
 * An external key store's side in AWS KMS: making it there (link, and create with
 * `linked_state: true`), and asking AWS KMS to connect or disconnect it. Each step that writes in
 * AWS KMS is undone there when the record here cannot follow, so neither side is left half-done.
 */
import type { Access } from '../accounts/access';
import { ConflictError } from '../errors';
import { loadKeyStore, type KeyStoreRecord } from '../key-references';
import type { AwsKms, KmsLocation, XksProxyCredential } from '../ports/aws-kms';
import type { Clock } from '../ports/clock';
import type { SecretStore } from '../ports/secret-store';
import type { StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { secretNames } from '../secret-names';
import { xksProxyUriPath } from '../../contract/xks-proxy-uri';
import { type ConnectionStates, kmsLocation } from './aws-kms-links';
import { type KeyStoreData, type KeyStoreResource, withoutVpcName } from './key-store';
import type { LinkKeyStoreRequest } from './key-store-requests';
import { checkXksProxyUriEndpoint, resolveConnectivity } from './key-store-rules';
import type { KeyStoreViews } from './key-store-views';

export interface KeyStoreLinkingDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly clock: Clock;
  /** AWS KMS of the account containers. */
  readonly awsKms: AwsKms;
}

export class KeyStoreLinking {
  constructor(
    private readonly deps: KeyStoreLinkingDeps,
    private readonly connections: ConnectionStates,
    private readonly views: KeyStoreViews,
  ) {}

  /**
   * POST .../{id}/link: creates an unlinked store in AWS KMS (its endpoint, and the VPC endpoint
   * service name for VPC connectivity, as given; its newest credential). Refused while blocked:
   * AWS KMS checks the proxy before it creates the store.
   */
  async link(access: Access, id: string, request: LinkKeyStoreRequest): Promise<KeyStoreResource> {
    const { state, secrets, clock } = this.deps;
    const endpoint = checkXksProxyUriEndpoint(request.aws_param.xks_proxy_uri_endpoint, 'aws_param.xks_proxy_uri_endpoint');
    const { store, account } = await loadKeyStore(state, access, id);
    if (store.data.linkedState) throw new ConflictError(`Key store ${id} is already linked to AWS KMS${store.data.aws ? ` (${store.data.aws.customKeyStoreId})` : ''}`);
    if (store.data.blocked) throw new ConflictError(`Key store ${id} is blocked; unblock it first (AWS KMS checks the proxy before it creates the store)`);
    if (account === undefined) throw new ConflictError(`The AWS account container of key store ${id} no longer exists`);
    const connectivity = resolveConnectivity(
      store.data.xksProxyConnectivity,
      request.aws_param.xks_proxy_vpc_endpoint_service_name ?? (store.data.xksProxyConnectivity === 'VPC_ENDPOINT_SERVICE' ? store.data.xksProxyVpcEndpointServiceName : undefined),
    );
    const newest = store.data.credentials[store.data.credentials.length - 1];
    const secret = await secrets.get(secretNames.xksCredential(id, newest.id));
    if (secret === undefined) throw new ConflictError(`The secret of credential ${newest.id} of key store ${id} is missing; rotate the credential, then link`);
    const at = kmsLocation(account, store.data.region);
    const settings = { ...withoutVpcName(store.data), xksProxyUriEndpoint: endpoint, ...connectivity };
    const customKeyStoreId = await this.deps.awsKms.createExternalKeyStore(at, externalKeyStoreSettings(id, settings, { accessKeyId: newest.accessKeyId, rawSecretAccessKey: secret }));
    try {
      const linked = await retryOnChange(async () => {
        const { store: current } = await loadKeyStore(state, access, id);
        if (current.data.linkedState) throw new ConflictError(`Key store ${id} was linked meanwhile`);
        const data: KeyStoreData = {
          ...withoutVpcName(current.data),
          xksProxyUriEndpoint: endpoint,
          ...connectivity,
          linkedState: true,
          aws: { customKeyStoreId, accessKeyId: newest.accessKeyId },
          updatedAt: clock.now().toISOString(),
        };
        await state.transact([{ op: 'update', kind: 'keyStore', id, data, expectedVersion: current.version, conflictMessage: CHANGED_CONCURRENTLY }]);
        return { ...current, data, version: current.version + 1 };
      });
      return await this.views.present(linked, account);
    } catch (error) {
      await this.deps.awsKms.deleteCustomKeyStore(at, customKeyStoreId).catch(() => undefined);
      throw error;
    }
  }

  /** POST .../{id}/connect: asks AWS KMS to connect a linked store (CONNECTING, then CONNECTED or FAILED). */
  connect(access: Access, id: string): Promise<KeyStoreResource> {
    return this.changeConnection(access, id, (at, cks) => this.deps.awsKms.connectCustomKeyStore(at, cks));
  }

  /** POST .../{id}/disconnect: asks AWS KMS to disconnect a linked store (DISCONNECTING, then DISCONNECTED). */
  disconnect(access: Access, id: string): Promise<KeyStoreResource> {
    return this.changeConnection(access, id, (at, cks) => this.deps.awsKms.disconnectCustomKeyStore(at, cks));
  }

  /** Creates a store just written here in AWS KMS and records its id; on failure the caller deletes it here. */
  async createInAwsKms(id: string, at: KmsLocation, credential: XksProxyCredential): Promise<KeyStoreRecord> {
    const { state, awsKms, clock } = this.deps;
    const created = await state.get<KeyStoreData>('keyStore', id);
    if (created === undefined) throw new ConflictError(`Key store ${id} was deleted while it was being linked`);
    const customKeyStoreId = await awsKms.createExternalKeyStore(at, externalKeyStoreSettings(id, created.data, credential));
    try {
      return await retryOnChange(async () => {
        const current = await state.get<KeyStoreData>('keyStore', id);
        if (current === undefined) throw new ConflictError(`Key store ${id} was deleted while it was being linked`);
        const data: KeyStoreData = { ...current.data, aws: { customKeyStoreId, accessKeyId: credential.accessKeyId }, updatedAt: clock.now().toISOString() };
        await state.transact([{ op: 'update', kind: 'keyStore', id, data, expectedVersion: current.version, conflictMessage: CHANGED_CONCURRENTLY }]);
        return { ...current, data, version: current.version + 1 };
      });
    } catch (error) {
      await awsKms.deleteCustomKeyStore(at, customKeyStoreId).catch(() => undefined);
      throw error;
    }
  }

  private async changeConnection(access: Access, id: string, change: (at: KmsLocation, customKeyStoreId: string) => Promise<void>): Promise<KeyStoreResource> {
    const { store, account } = await loadKeyStore(this.deps.state, access, id);
    if (store.data.aws === undefined || account === undefined) {
      throw new ConflictError(`Key store ${id} is not linked to AWS KMS; link it first (POST .../${id}/link), or connect it in AWS KMS yourself`);
    }
    await change(kmsLocation(account, store.data.region), store.data.aws.customKeyStoreId);
    this.connections.forget(store.data.aws.customKeyStoreId);
    return this.views.present(store, account, { freshConnection: true });
  }
}

/** A store's settings as AWS KMS's CreateCustomKeyStore takes them. */
function externalKeyStoreSettings(id: string, store: KeyStoreData, credential: XksProxyCredential) {
  return {
    name: store.name,
    uriEndpoint: store.xksProxyUriEndpoint,
    uriPath: xksProxyUriPath(id),
    connectivity: store.xksProxyConnectivity,
    ...(store.xksProxyVpcEndpointServiceName === undefined ? {} : { vpcEndpointServiceName: store.xksProxyVpcEndpointServiceName }),
    credential,
  };
}
