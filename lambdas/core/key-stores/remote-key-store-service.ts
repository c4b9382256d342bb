/**
 * Remote key stores as the key store routes show them (remote-key-store.ts): found by key store
 * synchronization, visible to callers who may view the stores of their container. What may change
 * is what the operator's guide lets every external custom key store change: its name and, for an
 * external key store, its XKS location (connectivity, endpoint, VPC endpoint service name). The
 * change is made in AWS KMS (UpdateCustomKeyStore), which takes the name in any connection state
 * and the location only while the store is DISCONNECTED, and the record is then read back from it.
 */
import type { Access } from '../accounts/access';
import type { AccountData } from '../accounts/account';
import { ConflictError, ValidationError } from '../errors';
import { authorize, getAccount, type AccountRecord } from '../key-references';
import type { AwsKms, ExternalKeyStoreChanges } from '../ports/aws-kms';
import type { Clock } from '../ports/clock';
import type { StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { kmsLocation } from './aws-kms-links';
import { EXTERNAL_KEY_STORE } from './key-store';
import type { UpdateKeyStoreRequest } from './key-store-requests';
import { checkXksProxyUriEndpoint, resolveConnectivity } from './key-store-rules';
import { type RemoteKeyStoreData, type RemoteKeyStoreRecord, remoteKeyStoreResource, type RemoteKeyStoreResource } from './remote-key-store';

export interface RemoteKeyStoreServiceDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly awsKms: Pick<AwsKms, 'updateExternalKeyStore' | 'updateCloudHsmKeyStore' | 'describeCustomKeyStore'>;
}

/** Fields of the update request a remote store does not have here, each with why. */
const NOT_FOR_REMOTE: ReadonlyArray<readonly [string, (r: UpdateKeyStoreRequest) => unknown, string]> = [
  ['local_hosted_params', (r) => r.local_hosted_params, 'a remote key store has no health-check key, max credentials or mTLS settings in this key manager'],
  ['enable_success_audit_event', (r) => r.enable_success_audit_event, 'a remote key store is served by another proxy, which keeps its own audit events'],
  ['aws_param.access_key_id', (r) => r.aws_param?.access_key_id, 'a remote key store authenticates with its own proxy\'s credential'],
  ['aws_param.secret_access_key', (r) => r.aws_param?.secret_access_key, 'a remote key store authenticates with its own proxy\'s credential'],
  ['aws_param.xks_proxy_uri_path', (r) => r.aws_param?.xks_proxy_uri_path, 'the path belongs to the remote store\'s proxy'],
  ['aws_param.cloud_hsm_cluster_id', (r) => r.aws_param?.cloud_hsm_cluster_id, 'the cluster of a remote key store is its owner\'s'],
  ['aws_param.key_store_password', (r) => r.aws_param?.key_store_password, 'the kmsuser password of a remote key store is its owner\'s'],
];

export class RemoteKeyStoreService {
  constructor(private readonly deps: RemoteKeyStoreServiceDeps) {}

  /** The remote store with this id, if there is one (403 when the caller may not view its container). */
  async find(access: Access, id: string): Promise<RemoteKeyStoreResource | undefined> {
    const remote = await this.deps.state.get<RemoteKeyStoreData>('remoteKeyStore', id);
    if (remote === undefined) return undefined;
    const account = await getAccount(this.deps.state, remote.data.accountId);
    authorize(access, account);
    return remoteKeyStoreResource(remote, account?.data.name ?? '');
  }

  /** Whether `id` is a remote store's (the routes then go here). */
  async has(id: string): Promise<boolean> {
    return (await this.deps.state.get('remoteKeyStore', id)) !== undefined;
  }

  /** Renames the store (and moves an external one's XKS location) in AWS KMS, then records what AWS KMS describes. */
  async update(access: Access, id: string, request: UpdateKeyStoreRequest): Promise<RemoteKeyStoreResource> {
    const { state, clock, awsKms } = this.deps;
    for (const [field, value, why] of NOT_FOR_REMOTE) if (value(request) !== undefined) throw new ValidationError(`cannot be changed on a REMOTE key store: ${why}`, field);
    const remote = await state.get<RemoteKeyStoreData>('remoteKeyStore', id);
    const account = remote === undefined ? undefined : await getAccount(state, remote.data.accountId);
    if (remote === undefined || account === undefined) throw new ConflictError(`Remote key store ${id} is no longer known`);
    authorize(access, account);
    if (remote.data.gone === true) throw new ConflictError(`AWS KMS no longer has remote key store ${id} (${remote.data.aws.customKeyStoreId}); only the record is left`);
    const at = kmsLocation(account, remote.data.region);
    const { customKeyStoreId, type } = remote.data.aws;
    if (type === EXTERNAL_KEY_STORE) {
      const changes = externalChanges(request, remote.data.aws.xksProxy?.vpcEndpointServiceName);
      if (Object.keys(changes).length > 0) await awsKms.updateExternalKeyStore(at, customKeyStoreId, changes);
    } else {
      const network = (['xks_proxy_connectivity', 'xks_proxy_uri_endpoint', 'xks_proxy_vpc_endpoint_service_name'] as const).find((f) => request.aws_param?.[f] !== undefined);
      if (network !== undefined) throw new ValidationError(`only applies to ${EXTERNAL_KEY_STORE} key stores; remote key store ${id} is ${type}`, `aws_param.${network}`);
      if (request.name !== undefined) await awsKms.updateCloudHsmKeyStore(at, customKeyStoreId, { name: request.name });
    }
    const described = await awsKms.describeCustomKeyStore(at, customKeyStoreId);
    return retryOnChange(async () => {
      const current = (await state.get<RemoteKeyStoreData>('remoteKeyStore', id)) ?? remote;
      const now = clock.now().toISOString();
      const data: RemoteKeyStoreData = described === undefined ? { ...current.data, gone: true, updatedAt: now } : { ...current.data, aws: described, syncedAt: now, updatedAt: now };
      await state.transact([{ op: 'update', kind: 'remoteKeyStore', id, data, expectedVersion: current.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      return remoteKeyStoreResource({ ...current, data, version: current.version + 1 } as RemoteKeyStoreRecord, account.data.name);
    });
  }

  /** Every remote store of the containers `visible` admits. */
  async listAll(visible: (account: AccountRecord | undefined) => boolean): Promise<RemoteKeyStoreResource[]> {
    const [remote, accounts] = await Promise.all([this.deps.state.list<RemoteKeyStoreData>('remoteKeyStore'), this.deps.state.list<AccountData>('account')]);
    const byId = new Map(accounts.map((a) => [a.id, a]));
    return remote.filter((r) => visible(byId.get(r.data.accountId))).map((r) => remoteKeyStoreResource(r, byId.get(r.data.accountId)?.data.name ?? ''));
  }
}

/** UpdateCustomKeyStore's settings for an external remote store (the schema has checked their shapes). */
function externalChanges(request: UpdateKeyStoreRequest, vpcEndpointServiceNow: string | undefined): ExternalKeyStoreChanges {
  const aws = request.aws_param ?? {};
  const endpoint = aws.xks_proxy_uri_endpoint === undefined ? undefined : checkXksProxyUriEndpoint(aws.xks_proxy_uri_endpoint, 'aws_param.xks_proxy_uri_endpoint');
  const connectivity = aws.xks_proxy_connectivity === undefined ? undefined : resolveConnectivity(aws.xks_proxy_connectivity, aws.xks_proxy_vpc_endpoint_service_name ?? vpcEndpointServiceNow);
  return {
    ...(request.name === undefined ? {} : { name: request.name }),
    ...(endpoint === undefined ? {} : { uriEndpoint: endpoint }),
    ...(connectivity === undefined ? {} : { connectivity: connectivity.xksProxyConnectivity }),
    ...((connectivity?.xksProxyVpcEndpointServiceName ?? aws.xks_proxy_vpc_endpoint_service_name) === undefined ? {} : { vpcEndpointServiceName: connectivity?.xksProxyVpcEndpointServiceName ?? aws.xks_proxy_vpc_endpoint_service_name }),
  };
}
