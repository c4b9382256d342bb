/**
 * XKS credentials of an external key store (CCKM's "Create Credential" … "Rotate Credential",
 * and the operator guide's "Rotate Credentials"): create, list, get, delete, rotate.
 *
 * The current credentials are a list inside the key store record, oldest first, so every change is
 * one write guarded by the store's version: a store never holds more than `max_credentials`, never
 * fewer than one, however many requests race (the losers re-read and recompute). The secret of a
 * new credential is written to the SecretStore before the record and removed if the write finally
 * fails; secrets of dropped credentials are removed after the record no longer lists them.
 *
 * A linked store's new credential is pushed to AWS KMS (UpdateCustomKeyStore) once the record
 * lists it (AWS KMS checks it against the proxy); if AWS KMS refuses it, it is removed again. The
 * credential AWS KMS signs with, and those it signed with in the last five minutes, are never
 * dropped (refuseDroppingAwsCredentials).
 *
 * A credential AWS KMS may still be using is never dropped to make room (credential-eviction.ts):
 * rotation answers 409 naming it, and a new credential at max_credentials drops the oldest unused
 * one instead. An explicit DELETE still removes a credential in use (the operator asked), and says so.
 */
import type { Access } from '../accounts/access';
import type { AwsKms } from '../ports/aws-kms';
import { ConflictError, NotFoundError } from '../errors';
import { LISTS } from '../../contract/lists';
import { type ListPage, parseList } from '../listing';
import type { IdGenerator } from '../ports/id-generator';
import type { Clock } from '../ports/clock';
import { credentialResource, type XksCredentialData, type XksCredentialResource } from './credential';
import type { KeyStoreData, KeyStoreResource } from './key-store';
import { xksProxyUriPath } from '../../contract/xks-proxy-uri';
import type { SecretStore } from '../ports/secret-store';
import type { StateStore } from '../ports/state-store';
import type { CredentialUsage } from '../ports/credential-usage';
import { discardXksSecrets, issueXksCredential, type IssuedXksCredential, landedDespite } from './xks-credentials';
import { CREDENTIAL_PROPAGATION_MS, kmsLocation, linkWithNewCredential, refuseDroppingAwsCredentials } from './aws-kms-links';
import { getAccount, type KeyStoreRecord, loadKeyStore } from '../key-references';
import type { KeyStoreService } from './key-store-service';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { credentialsToDrop, isInUse, type WhenFull } from './credential-eviction';

/** POST .../credentials: the credential, with its secret shown once. */
export type NewCredentialResource = XksCredentialResource & IssuedXksCredential['response'];

/** POST .../rotate-credential (CCKM's "Rotate Credential"): the store, the new credential (secret shown once) and the count. */
export type RotatedCredentialResource = KeyStoreResource &
  IssuedXksCredential['response'] & {
    /** Id of the credential just created. */
    readonly credential_id: string;
    readonly credential_count: number;
    /** Oldest credential still valid after the rotation. */
    readonly oldest_credentials_id: string;
    /** Credentials dropped because the store would have exceeded max_credentials. */
    readonly deleted_credentials_ids: readonly string[];
  };

export interface KeyStoreCredentialServiceDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Shapes the store in rotate's response. */
  readonly keyStores: Pick<KeyStoreService, 'present'>;
  /** Linked stores: new credentials go to AWS KMS. */
  readonly awsKms: AwsKms;
  /** When each credential last authenticated an XKS request. */
  readonly credentialUsage: CredentialUsage;
}

/** DELETE of a credential that was in use: 200 with this body instead of 204. */
export interface DeletedCredentialInUse {
  readonly id: string;
  readonly access_key_id: string;
  readonly in_use: true;
  readonly last_used_at: string;
  readonly message: string;
}

export class KeyStoreCredentialService {
  constructor(private readonly deps: KeyStoreCredentialServiceDeps) {}

  /** Adds a credential; at `max_credentials` the oldest credential not in use goes (409 when all are in use). */
  async create(access: Access, keyStoreId: string): Promise<NewCredentialResource> {
    const { store, issued, kept } = await this.addCredential(access, keyStoreId, 'drop-oldest-unused');
    const credential = kept.find((c) => c.id === issued.credential.id) ?? issued.credential;
    return { ...credentialResource(store.id, credential), ...issued.response };
  }

  /** Adds a credential and, when the store is full, drops the oldest ones in the same write (409 if one is in use). */
  async rotate(access: Access, keyStoreId: string): Promise<RotatedCredentialResource> {
    const { store, issued, kept, dropped } = await this.addCredential(access, keyStoreId, 'drop-oldest');
    const presented = await this.deps.keyStores.present(store);
    return {
      ...presented,
      ...issued.response,
      credential_id: issued.credential.id,
      credential_count: kept.length,
      oldest_credentials_id: kept[0].id,
      deleted_credentials_ids: dropped.map((c) => c.id),
    };
  }

  async list(access: Access, keyStoreId: string, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<XksCredentialResource>> {
    const listing = parseList(query, LISTS.keyStoreCredentials);
    const { store } = await loadKeyStore(this.deps.state, access, keyStoreId);
    const uses = await this.deps.credentialUsage.lastUses(store.id);
    return listing.page(store.data.credentials.map((c) => credentialResource(store.id, c, uses.get(c.id))));
  }

  async get(access: Access, keyStoreId: string, credentialId: string): Promise<XksCredentialResource> {
    const { store } = await loadKeyStore(this.deps.state, access, keyStoreId);
    const uses = await this.deps.credentialUsage.lastUses(store.id);
    return credentialResource(store.id, findCredential(store, credentialId), uses.get(credentialId));
  }

  /**
   * Removes a credential (AWS KMS requests signed with it fail from then on); 409 for the last one.
   * A credential used in the last 10 minutes is removed too, and the answer (200 instead of 204)
   * says when it was last used.
   */
  async delete(access: Access, keyStoreId: string, credentialId: string): Promise<DeletedCredentialInUse | undefined> {
    const { state, secrets, clock, credentialUsage } = this.deps;
    const removed = await retryOnChange(async () => {
      const { store } = await loadKeyStore(state, access, keyStoreId);
      const removed = findCredential(store, credentialId);
      refuseDroppingAwsCredentials(store.id, store.data, [removed], clock.now());
      const credentials = store.data.credentials.filter((c) => c.id !== credentialId);
      if (credentials.length === 0) {
        throw new ConflictError(`Credential ${credentialId} is the key store's only credential; a key store always needs one (rotate-credential replaces it)`);
      }
      const data: KeyStoreData = { ...store.data, credentials, updatedAt: clock.now().toISOString() };
      await state.transact([{ op: 'update', kind: 'keyStore', id: store.id, data, expectedVersion: store.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      return removed;
    });
    await discardXksSecrets(secrets, keyStoreId, [credentialId]);
    const lastUsed = (await credentialUsage.lastUses(keyStoreId)).get(credentialId);
    if (lastUsed === undefined || !isInUse(lastUsed, clock)) return undefined;
    return {
      id: credentialId,
      access_key_id: removed.accessKeyId,
      in_use: true,
      last_used_at: lastUsed.toISOString(),
      message: `Credential ${credentialId} was deleted while in use: AWS KMS last authenticated with it at ${lastUsed.toISOString()}; requests AWS KMS signs with it now fail until it uses another credential`,
    };
  }

  /**
   * 1. Check access and that no credential in use would be dropped, before generating anything.
   * 2. Generate the credential and store its secret (once, outside the retry loop).
   * 3. Read the store; append the credential (next `credential_version`); when full, drop the
   *    oldest (rotate) or the oldest unused (create), 409 if that would drop one in use; write with
   *    the store's version. Repeat from the read if the version moved.
   * 4. Remove the secrets of dropped credentials; on failure, the new secret.
   */
  private async addCredential(
    access: Access,
    keyStoreId: string,
    whenFull: WhenFull,
  ): Promise<{ store: KeyStoreRecord; issued: IssuedXksCredential; kept: readonly XksCredentialData[]; dropped: readonly XksCredentialData[] }> {
    const { state, secrets, clock, ids, credentialUsage } = this.deps;
    const { store: current } = await loadKeyStore(state, access, keyStoreId);
    credentialsToDrop(current, whenFull, await credentialUsage.lastUses(keyStoreId), clock);
    const credentialId = ids.newId();
    const issued = await issueXksCredential(secrets, {
      keyStoreId,
      credentialId,
      version: 0, // replaced below by the store's next credential_version
      now: clock.now().toISOString(),
      uriPath: xksProxyUriPath(keyStoreId),
    });
    let result;
    try {
      result = await retryOnChange(async () => {
        const { store } = await loadKeyStore(state, access, keyStoreId);
        const version = store.data.credentialVersion + 1;
        const now = clock.now().toISOString();
        const credential: XksCredentialData = { ...issued.credential, version, createdAt: now, updatedAt: now };
        const dropped = credentialsToDrop(store, whenFull, await credentialUsage.lastUses(keyStoreId), clock);
        const kept = [...store.data.credentials.filter((c) => !dropped.includes(c)), credential];
        refuseDroppingAwsCredentials(store.id, store.data, dropped, clock.now());
        const data: KeyStoreData = { ...store.data, credentials: kept, credentialVersion: version, updatedAt: now };
        await state.transact([{ op: 'update', kind: 'keyStore', id: store.id, data, expectedVersion: store.version, conflictMessage: CHANGED_CONCURRENTLY }]);
        return { store: { ...store, data, version: store.version + 1 }, kept, dropped, credential };
      });
    } catch (error) {
      let stored: KeyStoreRecord | undefined;
      const committed = await landedDespite(error, async () => {
        stored = (await loadKeyStore(state, access, keyStoreId)).store;
        return stored.data.credentials.some((c) => c.id === credentialId);
      });
      if (!committed || stored === undefined) {
        await discardXksSecrets(secrets, keyStoreId, [credentialId]);
        throw error;
      }
      // Landed: answer as if the write had; the dropped credentials' secrets stay behind (unreferenced, they authenticate nothing).
      const credential = stored.data.credentials.find((c) => c.id === credentialId) as XksCredentialData;
      result = { store: stored, kept: stored.data.credentials, dropped: [], credential };
    }
    await discardXksSecrets(secrets, keyStoreId, result.dropped.map((c) => c.id));
    const store = result.store.data.aws === undefined ? result.store : await this.pushToAwsKms(access, result.store, issued);
    return { ...result, store, issued: { ...issued, credential: result.credential } };
  }

  /**
   * Gives AWS KMS a linked store's new credential and records it as the one AWS KMS signs with.
   * When AWS KMS refuses it, the credential is removed again and the error says why.
   */
  private async pushToAwsKms(access: Access, store: KeyStoreRecord, issued: IssuedXksCredential): Promise<KeyStoreRecord> {
    const { state, secrets, clock, awsKms } = this.deps;
    const link = store.data.aws;
    const account = await getAccount(state, store.data.accountId);
    if (link === undefined || account === undefined) return store;
    const accessKeyId = issued.response.access_key_id;
    try {
      await awsKms.updateExternalKeyStore(
        kmsLocation(account, store.data.region),
        link.customKeyStoreId,
        { credential: { accessKeyId, rawSecretAccessKey: issued.response.secret_access_key } },
        { credentialPropagationMs: CREDENTIAL_PROPAGATION_MS },
      );
    } catch (error) {
      await retryOnChange(async () => {
        const { store: current } = await loadKeyStore(state, access, store.id);
        const credentials = current.data.credentials.filter((c) => c.accessKeyId !== accessKeyId);
        if (credentials.length === current.data.credentials.length || credentials.length === 0) return;
        const data: KeyStoreData = { ...current.data, credentials, updatedAt: clock.now().toISOString() };
        await state.transact([{ op: 'update', kind: 'keyStore', id: current.id, data, expectedVersion: current.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      }).catch(() => undefined);
      await discardXksSecrets(secrets, store.id, [issued.credential.id]);
      throw error;
    }
    return retryOnChange(async () => {
      const { store: current } = await loadKeyStore(state, access, store.id);
      const now = clock.now();
      const data: KeyStoreData = { ...current.data, aws: linkWithNewCredential(current.data.aws ?? link, accessKeyId, now), updatedAt: now.toISOString() };
      await state.transact([{ op: 'update', kind: 'keyStore', id: current.id, data, expectedVersion: current.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      return { ...current, data, version: current.version + 1 };
    });
  }
}

function findCredential(store: KeyStoreRecord, credentialId: string): XksCredentialData {
  const credential = store.data.credentials.find((c) => c.id === credentialId);
  if (credential === undefined) throw new NotFoundError(`Credential of key store ${store.id}`, credentialId);
  return credential;
}
