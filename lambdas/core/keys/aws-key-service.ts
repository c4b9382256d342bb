/**
 * AWS keys (`/v1/cckm/aws/keys`, README "AWS keys"): every KMS key the key manager knows, whatever
 * its kind: list, get, refresh, delete the record, and the key operations. Each operation is one
 * AWS KMS call in the key's account and region (through the container's role), after which the
 * record is refreshed from AWS KMS (DescribeKey, aliases, tags, policy) and returned; AWS's refusals
 * come back as the adapter translates them (409 wrong state or alias in use, 400 bad value).
 *
 * ACL: the container is the key's; the action is the route's for the key's kind (`byKeyKind`), so
 * that, for instance, seeing a native key takes `viewnative` and seeing an HYOK key `viewhyokkey`.
 * HYOK-only operations (create, link, block, rotate, versions) are in hyok-key-service.ts.
 */
import { type Access, notFoundFor } from '../accounts/access';
import { ConflictError, ValidationError } from '../errors';
import { authorize, getAccount, mayDo, type AccountRecord } from '../key-references';
import { KEY_STORE_COUNTERS } from '../key-stores/key-store';
import { CLOUDHSM_KEY_STORE_COUNTERS } from '../key-stores/cloudhsm-key-store';
import { type ListPage, page, parseListQuery } from '../listing';
import type { Clock } from '../ports/clock';
import type { KmsLocation } from '../ports/aws-kms';
import type { AwsKmsKeys, KmsTag } from '../ports/aws-kms-keys';
import type { StateOp, StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import { aliasName, type AwsKeyData, existsInAwsKms, isHyokKey, kmsKeyIdOf } from './aws-key';
import type { AwsKeyResource } from './aws-key-resource';
import { accessForKind, type AwsKeyRecord, kindOf, listFilter, present, relatedOf, relatedOfAll, SORTABLE_FIELDS } from './aws-key-views';
import { keyPolicyFor, POLICY_SHORTCUTS } from './key-policy';
import { kmsLocationOf, readKmsKey } from './kms-key-reads';
import { releaseAssignment } from '../job-config-labels';
import { VIRTUAL_KEY_COUNTERS } from './virtual-key';
import { HSM_KEY_COUNTERS } from '../hsm/hsm-key';
import type { UpdateAwsKeyPolicyRequest as UpdatePolicyRequest } from '../../contract/aws-key-schemas';

export const AWS_KEY_RESOURCE = 'AWS key';

/** AWS KMS's bounds and default of the waiting period before a key is deleted. */
export const DELETION_WINDOW_DAYS = { min: 7, max: 30, default: 30 } as const;

/** POST .../policy: a document or the shortcuts (the type of `awsKeySchemas.policy`). */
export type { UpdatePolicyRequest };

export interface AwsKeyServiceDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly awsKmsKeys: AwsKmsKeys;
}

/** A key the caller may act on, with where it lives in AWS KMS. */
interface KmsTarget {
  readonly key: AwsKeyRecord;
  readonly at: KmsLocation;
  readonly keyId: string;
}

export class AwsKeyService {
  constructor(private readonly deps: AwsKeyServiceDeps) {}

  /** Keys in containers where the caller may see keys of their kind, filtered, sorted and paged. */
  async list(access: Access, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<AwsKeyResource>> {
    const listQuery = parseListQuery(query, SORTABLE_FIELDS);
    const matches = listFilter(query);
    const [keys, related] = await Promise.all([this.deps.state.list<AwsKeyData>('awsKey'), relatedOfAll(this.deps.state)]);
    const resources = keys
      .filter((k) => mayDo(accessForKind(access, kindOf(k)), related.accounts.get(k.data.accountId)))
      .map((k) => present(k, related))
      .filter(matches);
    return page(resources, listQuery);
  }

  async get(access: Access, id: string): Promise<AwsKeyResource> {
    return this.show((await this.load(access, id)).key);
  }

  /** Reads the key from AWS KMS again (a key AWS KMS deleted shows `gone: true`). */
  async refresh(access: Access, id: string): Promise<AwsKeyResource> {
    return this.sync(await this.target(access, id));
  }

  enable(access: Access, id: string): Promise<AwsKeyResource> {
    return this.operate(access, id, (t) => this.deps.awsKmsKeys.enableKey(t.at, t.keyId));
  }

  disable(access: Access, id: string): Promise<AwsKeyResource> {
    return this.operate(access, id, (t) => this.deps.awsKmsKeys.disableKey(t.at, t.keyId));
  }

  /**
   * ScheduleKeyDeletion after `days` (7-30, default 30): the key shows PendingDeletion and its
   * deletion_date. An HYOK key's record, its virtual key and source keys stay until AWS KMS has
   * deleted the KMS key, since ciphertexts may still need them until then.
   */
  scheduleDeletion(access: Access, id: string, request: { readonly days?: number }): Promise<AwsKeyResource> {
    const days = request.days ?? DELETION_WINDOW_DAYS.default;
    return this.operate(access, id, (t) => this.deps.awsKmsKeys.scheduleKeyDeletion(t.at, t.keyId, days));
  }

  cancelDeletion(access: Access, id: string): Promise<AwsKeyResource> {
    return this.operate(access, id, (t) => this.deps.awsKmsKeys.cancelKeyDeletion(t.at, t.keyId));
  }

  addAlias(access: Access, id: string, request: { readonly alias: string }): Promise<AwsKeyResource> {
    return this.operate(access, id, (t) => this.deps.awsKmsKeys.createAlias(t.at, aliasName(request.alias), t.keyId));
  }

  /** DeleteAlias, of one of this key's aliases only (409 otherwise: the alias may name another key). */
  deleteAlias(access: Access, id: string, request: { readonly alias: string }): Promise<AwsKeyResource> {
    const alias = aliasName(request.alias);
    return this.operate(access, id, async (t) => {
      const aliases = await this.deps.awsKmsKeys.listKeyAliases(t.at, t.keyId);
      if (!aliases.includes(alias)) throw new ConflictError(`alias: ${alias} is not an alias of AWS key ${id} (its aliases: ${aliases.join(', ') || 'none'})`);
      await this.deps.awsKmsKeys.deleteAlias(t.at, alias);
    });
  }

  updateDescription(access: Access, id: string, request: { readonly description: string }): Promise<AwsKeyResource> {
    return this.operate(access, id, (t) => this.deps.awsKmsKeys.updateKeyDescription(t.at, t.keyId, request.description));
  }

  addTags(access: Access, id: string, request: { readonly tags: ReadonlyArray<{ readonly tag_key: string; readonly tag_value: string }> }): Promise<AwsKeyResource> {
    const tags: KmsTag[] = request.tags.map((t) => ({ TagKey: t.tag_key, TagValue: t.tag_value }));
    return this.operate(access, id, (t) => this.deps.awsKmsKeys.tagKey(t.at, t.keyId, tags));
  }

  removeTags(access: Access, id: string, request: { readonly tags: readonly string[] }): Promise<AwsKeyResource> {
    return this.operate(access, id, (t) => this.deps.awsKmsKeys.untagKey(t.at, t.keyId, request.tags));
  }

  /** PutKeyPolicy with a document, or the one the shortcuts expand to (key-policy.ts). */
  updatePolicy(access: Access, id: string, request: UpdatePolicyRequest): Promise<AwsKeyResource> {
    return this.operate(access, id, async (t) => {
      const shortcuts = Object.fromEntries(POLICY_SHORTCUTS.map((name) => [name, request[name]]));
      const policy = keyPolicyFor({ document: request.policy, documentField: 'policy', shortcuts, policytemplate: request.policytemplate }, t.at.accountId);
      if (policy === undefined) throw new ValidationError('give a policy document or one of key_admins, key_admins_roles, key_users, key_users_roles, external_accounts', 'policy');
      await this.deps.awsKmsKeys.putKeyPolicy(t.at, t.keyId, policy, request.bypass_policy_lockout_safety_check);
    });
  }

  /**
   * Removes the record from the key manager only (the KMS key stays as it is in AWS KMS). An HYOK
   * key whose KMS key AWS KMS still has is refused: schedule its deletion, and delete the record
   * once AWS KMS has deleted the key. Deleting an HYOK key releases its store and virtual key.
   */
  async delete(access: Access, id: string): Promise<void> {
    const { state } = this.deps;
    await retryOnChange(async () => {
      const { key, account } = await this.load(access, id);
      if (isHyokKey(key.data) && existsInAwsKms(key.data)) {
        const at = kmsLocationOf(account, key.data.accountId, key.data.region);
        const now = await readKmsKey(this.deps.awsKmsKeys, at, kmsKeyIdOf(key.data) as string, this.deps.clock.now());
        if (now !== 'gone') {
          const until = now.metadata.DeletionDate === undefined ? '' : ` until ${now.metadata.DeletionDate}`;
          throw new ConflictError(
            `AWS key ${id} is an HYOK key whose KMS key ${now.metadata.Arn} is ${now.metadata.KeyState}${until} in AWS KMS; schedule its deletion (POST .../schedule-deletion) and delete the record once AWS KMS has deleted the key`,
          );
        }
      }
      const ops: StateOp[] = [{ op: 'delete', kind: 'awsKey', id, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY }, ...releaseAssignment(key.data.labels)];
      if (isHyokKey(key.data)) {
        ops.push(
          { op: 'count', kind: 'keyStore', id: key.data.keyStoreId, counter: KEY_STORE_COUNTERS.hyokKeys, delta: -1, min: 0 },
          { op: 'count', kind: 'virtualKey', id: key.data.virtualKeyId, counter: VIRTUAL_KEY_COUNTERS.hyokKeys, delta: -1, min: 0 },
        );
      } else if (key.data.localKeyId !== undefined) {
        // An uploaded key releases its HSM key (which may then be destroyed).
        ops.push({ op: 'count', kind: 'hsmKey', id: key.data.localKeyId, counter: HSM_KEY_COUNTERS.references, delta: -1, min: 0 });
      } else if (key.data.kind === 'cloudhsm' && key.data.customKeyStoreId !== undefined && (await state.get('cloudHsmKeyStore', key.data.customKeyStoreId)) !== undefined) {
        // A key of one of our CloudHSM key stores is counted by it (a key of a remote store names that store, which counts nothing).
        ops.push({ op: 'count', kind: 'cloudHsmKeyStore', id: key.data.customKeyStoreId, counter: CLOUDHSM_KEY_STORE_COUNTERS.awsKeys, delta: -1, min: 0 });
      }
      await state.transact(ops);
    });
  }

  /** A key the caller may do the route's action on (for its kind): missing is 404 for admins, 403 for users. */
  async load(access: Access, id: string): Promise<{ key: AwsKeyRecord; account: AccountRecord | undefined }> {
    const key = await this.deps.state.get<AwsKeyData>('awsKey', id);
    if (key === undefined) throw notFoundFor(access.principal, AWS_KEY_RESOURCE, id);
    const account = await getAccount(this.deps.state, key.data.accountId);
    authorize(accessForKind(access, kindOf(key)), account);
    return { key, account };
  }

  /** The key as the API shows it. */
  async show(key: AwsKeyRecord): Promise<AwsKeyResource> {
    return present(key, await relatedOf(this.deps.state, key.data));
  }

  /**
   * Writes AWS KMS's side of the key into its record (re-read and retried when the record changed
   * meanwhile) and shows it. A key AWS KMS no longer has is marked gone.
   */
  async sync(target: KmsTarget): Promise<AwsKeyResource> {
    const { state, clock } = this.deps;
    return retryOnChange(async () => {
      const key = (await state.get<AwsKeyData>('awsKey', target.key.id)) ?? target.key;
      const read = await readKmsKey(this.deps.awsKmsKeys, target.at, target.keyId, clock.now());
      const now = clock.now().toISOString();
      const data: AwsKeyData = read === 'gone' ? { ...key.data, gone: true, updatedAt: now } : { ...key.data, kms: read, gone: false, updatedAt: now };
      await state.transact([{ op: 'update', kind: 'awsKey', id: key.id, data, expectedVersion: key.version, conflictMessage: CHANGED_CONCURRENTLY }]);
      return this.show({ ...key, data, version: key.version + 1 });
    });
  }

  /** The caller's key and where it is in AWS KMS; 409 for a key that is not (or no longer) there. */
  private async target(access: Access, id: string): Promise<KmsTarget> {
    const { key, account } = await this.load(access, id);
    const keyId = kmsKeyIdOf(key.data);
    if (keyId === undefined || !key.data.linkedState) {
      throw new ConflictError(`AWS key ${id} is not linked to AWS KMS: link it first (POST /v1/cckm/aws/keys/${id}/link)`);
    }
    if (key.data.gone === true) throw new ConflictError(`AWS KMS has deleted the KMS key of AWS key ${id} (${keyId}); only the record is left`);
    return { key, at: kmsLocationOf(account, key.data.accountId, key.data.region), keyId };
  }

  /** A key the caller may change: not one AWS manages (synchronization records those read-only). */
  private async changeable(access: Access, id: string): Promise<KmsTarget> {
    const target = await this.target(access, id);
    if (target.key.data.kms?.metadata.KeyManager === 'AWS') throw new ConflictError(`AWS key ${id} is managed by AWS (KeyManager AWS): it is read-only here`);
    return target;
  }

  /** One AWS KMS call on the caller's key, then the record refreshed from AWS KMS. */
  private async operate(access: Access, id: string, call: (target: KmsTarget) => Promise<void>): Promise<AwsKeyResource> {
    const target = await this.changeable(access, id);
    await call(target);
    return this.sync(target);
  }
}
