/**
 * AWS keys as stored: every KMS key the key manager knows is one `awsKey` record, whatever brought
 * it (README "AWS keys"). The parts every kind shares are the account container and region it
 * lives in, whether it exists in AWS KMS (`linkedState`) and AWS KMS's side as last read (`kms`:
 * DescribeKey, aliases, tags and policy, which `aws_param` shows). Each kind adds its own part:
 *  - `hyok`: an external key in one of our external key stores, backed by a virtual key; unlinked
 *    until its KMS key is created (`aws_param.XksKeyConfiguration.Id` is what AWS KMS asks for);
 *  - `native`, `byok`, `cloudhsm`: keys that synchronization, BYOK upload and CloudHSM key stores
 *    bring (OtherAwsKeyData holds what they share; each adds its own fields there).
 */
import { createHash } from 'node:crypto';
import type { AwsKeyKind } from '../../contract/acl';
import type { KmsKeyMetadata, KmsTag } from '../ports/aws-kms-keys';
import type { SourceKeyTier } from '../key-stores/key-store';
import type { Timestamps } from '../resource';
import type { SyncOutcome } from '../sync-outcome';

/** AWS KMS's side of a key, as last read (refreshed after every operation and by `refresh`). */
export interface KmsKeySnapshot {
  readonly metadata: KmsKeyMetadata;
  /** The key policy document (parsed); absent when AWS KMS did not let us read it. */
  readonly policy?: unknown;
  readonly aliases: readonly string[];
  readonly tags: readonly KmsTag[];
  /** GetKeyRotationStatus, as synchronization reads it; absent when not read or not applicable. */
  readonly rotationEnabled?: boolean;
  readonly syncedAt: string;
}

interface AwsKeyCommon extends Timestamps {
  /** The account container (`kms_id`) and region the key lives in; they never change. */
  readonly accountId: string;
  readonly region: string;
  /** Whether the key exists in AWS KMS (HYOK keys: once linked; every other kind always). */
  readonly linkedState: boolean;
  readonly blocked: boolean;
  /** Set once AWS KMS has no such key any more (a refresh found it deleted). */
  readonly gone?: boolean;
  readonly kms?: KmsKeySnapshot;
  /** The synchronization job that last wrote the record, and what it did (a unit delivered twice skips what it did, and counts it the same). */
  readonly syncedBy?: string;
  readonly syncOutcome?: SyncOutcome;
  /** Set by the latest rotation the key manager made. */
  readonly rotatedAt?: string;
  /**
   * The latest rotation's HSM source keys: the one of the version it replaced and the one of the
   * version it made (an HYOK key rotates inside the same KMS key, so these name source keys).
   */
  readonly rotatedFrom?: string;
  readonly rotatedTo?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface HyokKeyData extends AwsKeyCommon {
  /** Records written before other kinds existed have no kind: they are HYOK keys. */
  readonly kind?: 'hyok';
  readonly keyStoreId: string;
  readonly sourceKeyTier: SourceKeyTier;
  readonly virtualKeyId: string;
}

/** Keys of the other kinds; their issues add their own fields here. */
export interface OtherAwsKeyData extends AwsKeyCommon {
  readonly kind: Exclude<AwsKeyKind, 'hyok'>;
  /** `key_material_origin`: `native`, `cckm` (uploaded) or `CloudHSM`. */
  readonly keyMaterialOrigin: string;
  /** `key_source`: where uploaded material came from, `CloudHSM`, ... */
  readonly keySource?: string;
  /** The key manager's id of the custom key store the key is in, if any. */
  readonly customKeyStoreId?: string;
  /** Uploaded keys: the HSM source key whose material AWS KMS holds (it counts this key among its references), and its label. */
  readonly localKeyId?: string;
  readonly localKeyName?: string;
  readonly jobConfigId?: string;
}

export type AwsKeyData = HyokKeyData | OtherAwsKeyData;

export function awsKeyKind(data: AwsKeyData): AwsKeyKind {
  return data.kind ?? 'hyok';
}

export function isHyokKey(data: AwsKeyData): data is HyokKeyData {
  return awsKeyKind(data) === 'hyok';
}

/** The KMS key's id in AWS KMS; undefined while a key is not linked. */
export function kmsKeyIdOf(data: AwsKeyData): string | undefined {
  return data.kms?.metadata.KeyId;
}

/** Whether AWS KMS may still hold the key: linked and not found gone. */
export function existsInAwsKms(data: AwsKeyData): boolean {
  return data.linkedState && data.gone !== true && data.kms !== undefined;
}

/**
 * The external key id AWS KMS uses in XKS requests (`XksKeyConfiguration.Id`, ≤ 128 characters of
 * `[A-Za-z0-9._-]`): the HYOK key's own id, a UUID. The virtual key and source key ids stay private
 * (never give AWS KMS a source or virtual key id: README "AWS keys").
 */
export function externalKeyId(hyokKeyId: string): string {
  return hyokKeyId;
}

export const EXTERNAL_KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** The snapshot from what AWS KMS answered; the policy text is parsed (kept as text if it is not JSON). */
export function kmsKeySnapshot(parts: { metadata: KmsKeyMetadata; policy?: string; aliases: readonly string[]; tags: readonly KmsTag[] }, syncedAt: string): KmsKeySnapshot {
  return {
    metadata: parts.metadata,
    ...(parts.policy === undefined ? {} : { policy: parsePolicy(parts.policy) }),
    aliases: [...parts.aliases].sort(),
    tags: parts.tags,
    syncedAt,
  };
}

function parsePolicy(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `alias/<name>`, from a name given with or without the prefix. */
export function aliasName(alias: string): string {
  return alias.startsWith('alias/') ? alias : `alias/${alias}`;
}

/**
 * The record id of a KMS key the key manager did not create as an HYOK key (synchronized, uploaded):
 * a UUID derived from its ARN, so that upload and synchronization, and two synchronizations at
 * once, can only ever make one record for it (the create is conditional on the id).
 */
export function awsKeyRecordId(arn: string): string {
  return derivedId(`aws-key:${arn}`);
}

/** A UUID (version 5 layout) derived from `name`: the same name always gives the same id. */
export function derivedId(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
