/**
 * The custom key store routes (`/v1/cckm/aws/custom-key-stores`) serve both types of AWS KMS
 * custom key store: external ones (key-store-service.ts) and CloudHSM ones
 * (cloudhsm-key-store-service.ts). This picks the service for each request (create by
 * `aws_param.custom_key_store_type`, the rest by which kind of store has the id) and lists both
 * together, with the remote stores key store synchronization found (shown; renamed and moved
 * through AWS KMS, remote-key-store-service.ts).
 */
import type { Access } from '../accounts/access';
import { ValidationError } from '../errors';
import { mayDo } from '../key-references';
import { LISTS } from '../../contract/lists';
import { type ListPage, MAX_LIMIT, parseList } from '../listing';
import type { CloudHsmKeyStoreResource } from './cloudhsm-key-store';
import type { CloudHsmKeyStoreService } from './cloudhsm-key-store-service';
import { CLOUDHSM_KEY_STORE, type KeyStoreResource } from './key-store';
import type { RemoteKeyStoreResource } from './remote-key-store';
import type { RemoteKeyStoreService } from './remote-key-store-service';
import type { KeyStoreWithNewCredential } from './key-store-creation';
import type { CreateKeyStoreRequest, UpdateKeyStoreRequest } from './key-store-requests';
import type { KeyStoreService } from './key-store-service';
import type { ConnectKeyStoreRequest } from '../../contract/key-schemas';

/** A store of ours of either type, or a remote one (found by key store synchronization). */
export type CustomKeyStoreResource = KeyStoreResource | CloudHsmKeyStoreResource | RemoteKeyStoreResource;

/** POST .../{id}/connect: CloudHSM stores may be given a new kmsuser password to connect with. */
export type { ConnectKeyStoreRequest };

type Query = Readonly<Record<string, string | undefined>>;

export class CustomKeyStores {
  constructor(
    private readonly external: KeyStoreService,
    private readonly cloudHsm: CloudHsmKeyStoreService,
    private readonly remote?: RemoteKeyStoreService,
  ) {}

  create(access: Access, request: CreateKeyStoreRequest): Promise<KeyStoreWithNewCredential | CloudHsmKeyStoreResource> {
    return request.aws_param.custom_key_store_type === CLOUDHSM_KEY_STORE ? this.cloudHsm.create(access, request) : this.external.create(access, request);
  }

  async get(access: Access, id: string): Promise<CustomKeyStoreResource> {
    const remote = await this.remote?.find(access, id);
    if (remote !== undefined) return remote;
    return (await this.isCloudHsm(id)) ? this.cloudHsm.get(access, id) : this.external.get(access, id);
  }

  async update(access: Access, id: string, request: UpdateKeyStoreRequest): Promise<CustomKeyStoreResource> {
    if (this.remote !== undefined && (await this.remote.has(id))) return this.remote.update(access, id, request);
    return (await this.isCloudHsm(id)) ? this.cloudHsm.update(access, id, request) : this.external.update(access, id, request);
  }

  async delete(access: Access, id: string): Promise<void> {
    return (await this.isCloudHsm(id)) ? this.cloudHsm.delete(access, id) : this.external.delete(access, id);
  }

  async connect(access: Access, id: string, request: ConnectKeyStoreRequest = {}): Promise<CustomKeyStoreResource> {
    if (await this.isCloudHsm(id)) return this.cloudHsm.connect(access, id, request);
    if (request.key_store_password !== undefined) {
      throw new ValidationError(`only applies to ${CLOUDHSM_KEY_STORE} key stores; an external key store connects with its XKS credential`, 'key_store_password');
    }
    return this.external.connect(access, id);
  }

  async disconnect(access: Access, id: string): Promise<CustomKeyStoreResource> {
    return (await this.isCloudHsm(id)) ? this.cloudHsm.disconnect(access, id) : this.external.disconnect(access, id);
  }

  /**
   * Stores of both types the caller may view, as one list: the external ones (each list at most
   * MAX_LIMIT stores) and the CloudHSM ones, filtered, sorted and paged with the key store list's
   * filters (contract/lists.ts).
   */
  async list(access: Access, query: Query): Promise<ListPage<CustomKeyStoreResource>> {
    const listing = parseList(query, LISTS.keyStores);
    const external = await this.external.list(access, { ...query, skip: '0', limit: String(MAX_LIMIT) });
    const cloudHsm = await this.cloudHsm.listAll((account) => mayDo(access, account));
    const remote = (await this.remote?.listAll((account) => mayDo(access, account))) ?? [];
    return listing.page<CustomKeyStoreResource>([...external.resources, ...cloudHsm, ...remote]);
  }

  private async isCloudHsm(id: string): Promise<boolean> {
    return (await this.cloudHsm.find(id)) !== undefined;
  }
}
