/**
 * What linking a key store to AWS KMS needs besides the key store service itself: where the
 * store lives in AWS KMS (its account container's account and region, reached through the
 * container's role), AWS KMS's connection state of linked stores, kept a few seconds per
 * container so that lists and reads do not call AWS KMS for every store every time, and the rule
 * that keeps the credentials AWS KMS may sign with valid.
 */
import type { AccountData } from '../accounts/account';
import { ConflictError } from '../errors';
import type { ConnectionView } from './custom-key-store-resource';
import { type AwsKmsLink, type KeyStoreData, REPLACED_CREDENTIAL_GRACE_MS } from './key-store';
import type { XksCredentialData } from './credential';
import type { AwsKms, KmsLocation } from '../ports/aws-kms';
import type { EntityRecord } from '../ports/state-store';

/** How old a connection state may be before a read asks AWS KMS again. */
export const CONNECTION_STATE_MAX_AGE_MS = 5_000;

/**
 * How long the XKS proxy may take to accept a credential just written (its state cache's age
 * limit, README "XKS hot path"), plus a second: AWS KMS checks a new credential against the proxy.
 */
export const CREDENTIAL_PROPAGATION_MS = 6_000;

/** At most this many stores of one list are refreshed from AWS KMS at a time. */
const REFRESH_CONCURRENCY = 8;

/** The AWS KMS a store of `account` in `region` lives in. */
export function kmsLocation(account: EntityRecord<AccountData>, region: string): KmsLocation {
  return {
    containerId: account.id,
    accountId: account.data.accountId,
    region,
    ...(account.data.assumeRoleArn === undefined ? {} : { assumeRoleArn: account.data.assumeRoleArn }),
    ...(account.data.assumeRoleExternalId === undefined ? {} : { assumeRoleExternalId: account.data.assumeRoleExternalId }),
  };
}

/** AWS KMS connection states of linked stores, per container, each kept CONNECTION_STATE_MAX_AGE_MS. */
export class ConnectionStates {
  private readonly seen = new Map<string, { readonly view: ConnectionView; readonly at: number }>();

  constructor(
    private readonly kms: AwsKms,
    private readonly now: () => number,
  ) {}

  /**
   * A linked store's connection as AWS KMS reports it (a store AWS KMS no longer has shows as
   * DISCONNECTED). `fresh` skips the kept value (state checks before changes).
   */
  async of(at: KmsLocation, customKeyStoreId: string, options: { readonly fresh?: boolean } = {}): Promise<ConnectionView> {
    const kept = this.seen.get(customKeyStoreId);
    if (!options.fresh && kept !== undefined && this.now() - kept.at < CONNECTION_STATE_MAX_AGE_MS) return kept.view;
    const status = await this.kms.describeCustomKeyStore(at, customKeyStoreId);
    const view: ConnectionView = status === undefined
      ? { state: 'DISCONNECTED' }
      : { state: status.connectionState, ...(status.connectionErrorCode ? { errorCode: status.connectionErrorCode } : {}) };
    this.seen.set(customKeyStoreId, { view, at: this.now() });
    return view;
  }

  /** For a list: the stores' connections, a bounded number of AWS KMS calls at a time; a failed read shows the kept value or DISCONNECTED. */
  async ofMany(stores: ReadonlyArray<{ readonly at: KmsLocation; readonly customKeyStoreId: string }>): Promise<ConnectionView[]> {
    const views: ConnectionView[] = new Array(stores.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < stores.length) {
        const i = next++;
        views[i] = await this.of(stores[i].at, stores[i].customKeyStoreId).catch(
          () => this.seen.get(stores[i].customKeyStoreId)?.view ?? { state: 'DISCONNECTED' as const },
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, stores.length) }, worker));
    return views;
  }

  /** Drops the kept state after a change (connect, disconnect, delete). */
  forget(customKeyStoreId: string): void {
    this.seen.delete(customKeyStoreId);
  }
}

/**
 * 409 unless every credential in `dropping` may go: never the one AWS KMS signs with, nor the one
 * it signed with before for REPLACED_CREDENTIAL_GRACE_MS after it was replaced.
 */
export function refuseDroppingAwsCredentials(storeId: string, store: KeyStoreData, dropping: readonly XksCredentialData[], now: Date): void {
  const link = store.aws;
  if (link === undefined) return;
  for (const credential of dropping) {
    if (credential.accessKeyId === link.accessKeyId) {
      throw new ConflictError(`Credential ${credential.id} is the one AWS KMS signs with for key store ${storeId}; rotate the credential first, so that AWS KMS gets a new one`);
    }
    const replaced = link.replaced?.find((r) => r.accessKeyId === credential.accessKeyId);
    const until = replaced === undefined ? 0 : Date.parse(replaced.at) + REPLACED_CREDENTIAL_GRACE_MS;
    if (replaced !== undefined && now.getTime() < until) {
      throw new ConflictError(
        `Credential ${credential.id} of key store ${storeId} was replaced in AWS KMS at ${replaced.at}, and AWS KMS may keep signing with it until ${new Date(until).toISOString()}; try again after that, or raise max_credentials`,
      );
    }
  }
}

/** The link after AWS KMS was given `accessKeyId`: the one it used joins the replaced ones, which are kept while in their grace period. */
export function linkWithNewCredential(link: AwsKmsLink, accessKeyId: string, now: Date): AwsKmsLink {
  const replaced = [...(link.replaced ?? []), { accessKeyId: link.accessKeyId, at: now.toISOString() }].filter(
    (r) => r.accessKeyId !== accessKeyId && Date.parse(r.at) + REPLACED_CREDENTIAL_GRACE_MS > now.getTime(),
  );
  return { customKeyStoreId: link.customKeyStoreId, accessKeyId, ...(replaced.length > 0 ? { replaced } : {}) };
}
