/**
 * External custom key stores: create, list, get, update, delete, block, unblock
 * (CCKM's "Create a Custom Key Store" … "Unblock Access"; CCKM's operator guide).
 *
 * Invariants and where they are kept:
 *  - the name is unique: a name claim in the create transaction, moved by rename on update;
 *  - the account container counts its key stores and the health-check key counts its users
 *    (counters adjusted in the same transaction as the store, so neither can be deleted under it);
 *  - a store is deleted only while it has no HYOK key (`requireZero` on its `hyokKeys` counter,
 *    which CreateHyokKey increments in its own transaction);
 *  - read-modify-write changes carry the store's version and are recomputed when it moved.
 *
 * Linked stores also exist in AWS KMS, in their account container's account and region. Changes
 * are made on both sides so that a failure leaves neither half-done: a store is created here
 * first (AWS KMS calls the proxy, which must know it), then in AWS KMS, and removed here again
 * when AWS KMS refuses; updates are written here, then pushed, and written back when AWS KMS
 * refuses them; a delete is done in AWS KMS first, which refuses while AWS KMS has keys in it.
 */
import type { Access } from '../accounts/access';
import type { AccountRecord, KeyStoreRecord } from '../key-references';
import type { ListPage } from '../listing';
import type { AwsKms } from '../ports/aws-kms';
import type { Clock } from '../ports/clock';
import type { CredentialUsage } from '../ports/credential-usage';
import type { HsmAgent } from '../ports/hsm';
import type { IdGenerator } from '../ports/id-generator';
import type { SecretStore } from '../ports/secret-store';
import type { StateStore } from '../ports/state-store';
import { ConnectionStates } from './aws-kms-links';
import type { KeyStoreResource } from './key-store';
import { KeyStoreChanges } from './key-store-changes';
import { KeyStoreCreation, type KeyStoreWithNewCredential } from './key-store-creation';
import { KeyStoreLinking } from './key-store-linking';
import { KeyStoreRemoval } from './key-store-removal';
import type { CreateKeyStoreRequest, LinkKeyStoreRequest, UpdateKeyStoreRequest } from './key-store-requests';
import { KeyStoreViews } from './key-store-views';

export interface KeyStoreServiceDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** AWS KMS of the account containers (linked stores). */
  readonly awsKms: AwsKms;
  /** The proxy's record of credential uses; a deleted store's is removed with it. */
  readonly credentialUsage: CredentialUsage;
  /** Makes the health-check ciphertext with the health-check key when it is set. */
  readonly hsmAgent: HsmAgent;
}

export interface KeyStoreServiceOptions {
  /**
   * Whether the deployment verifies XKS client certificates (the ALB's trust store). Without one
   * no client certificate ever reaches the proxy, so a store with mTLS would refuse every request:
   * `mtls_enabled: true` is refused instead. @default false
   */
  readonly mtlsTrustStore?: boolean;
}

/**
 * The external key store operations in one place for the handlers and the other services; each
 * group of them lives in its own file: creation (key-store-creation.ts), changes and blocking
 * (key-store-changes.ts), AWS KMS's side (key-store-linking.ts), deletion
 * (key-store-removal.ts) and what the API shows (key-store-views.ts).
 */
export class KeyStoreService {
  private readonly creation: KeyStoreCreation;
  private readonly changes: KeyStoreChanges;
  private readonly linking: KeyStoreLinking;
  private readonly removal: KeyStoreRemoval;
  private readonly views: KeyStoreViews;

  constructor(deps: KeyStoreServiceDeps, options: KeyStoreServiceOptions = {}) {
    /** AWS KMS connection states of linked stores, kept per container for a few seconds. */
    const connections = new ConnectionStates(deps.awsKms, () => deps.clock.now().getTime());
    const mtlsTrustStore = options.mtlsTrustStore === true;
    this.views = new KeyStoreViews(deps.state, connections);
    this.linking = new KeyStoreLinking(deps, connections, this.views);
    this.removal = new KeyStoreRemoval(deps, connections);
    this.creation = new KeyStoreCreation(deps, mtlsTrustStore, this.views, this.linking, this.removal);
    this.changes = new KeyStoreChanges(deps, mtlsTrustStore, connections, this.views);
  }

  /** Creates a store (linked: in AWS KMS too) with its first credential, whose secret is shown once. */
  create(access: Access, request: CreateKeyStoreRequest): Promise<KeyStoreWithNewCredential> {
    return this.creation.create(access, request);
  }

  /** POST .../{id}/link: creates an unlinked store in AWS KMS. */
  link(access: Access, id: string, request: LinkKeyStoreRequest): Promise<KeyStoreResource> {
    return this.linking.link(access, id, request);
  }

  /** POST .../{id}/connect: asks AWS KMS to connect a linked store. */
  connect(access: Access, id: string): Promise<KeyStoreResource> {
    return this.linking.connect(access, id);
  }

  /** POST .../{id}/disconnect: asks AWS KMS to disconnect a linked store. */
  disconnect(access: Access, id: string): Promise<KeyStoreResource> {
    return this.linking.disconnect(access, id);
  }

  list(access: Access, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<KeyStoreResource>> {
    return this.views.list(access, query);
  }

  get(access: Access, id: string): Promise<KeyStoreResource> {
    return this.views.get(access, id);
  }

  update(access: Access, id: string, request: UpdateKeyStoreRequest): Promise<KeyStoreResource> {
    return this.changes.update(access, id, request);
  }

  /** Deletes the store; a linked one in AWS KMS first. */
  delete(access: Access, id: string): Promise<void> {
    return this.removal.delete(access, id);
  }

  block(access: Access, id: string): Promise<KeyStoreResource> {
    return this.changes.block(access, id);
  }

  unblock(access: Access, id: string): Promise<KeyStoreResource> {
    return this.changes.unblock(access, id);
  }

  /** The store as the API shows it; a linked one with AWS KMS's connection state. */
  present(store: KeyStoreRecord, account?: AccountRecord, options: { readonly freshConnection?: boolean } = {}): Promise<KeyStoreResource> {
    return this.views.present(store, account, options);
  }
}
