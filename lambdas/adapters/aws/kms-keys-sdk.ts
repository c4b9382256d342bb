/**
 * `AwsKmsKeys` on `@aws-sdk/client-kms`: the KMS key operations. `SdkAwsKms` (kms-sdk.ts) extends
 * this class and supplies `call`, which picks the account's client (its role, its region), retries
 * throttling and translates every failure (kms-errors.ts).
 */
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetKeyPolicyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
  type KMSClient,
  ListAliasesCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateKeyDescriptionCommand,
} from '@aws-sdk/client-kms';
import { DependencyError, ValidationError, isError } from '../../core/errors';
import type { KmsLocation } from '../../core/ports/aws-kms';
import type { AlgorithmSpec, KeySpec, KeyUsageType, WrappingKeySpec } from '@aws-sdk/client-kms';
import type { AwsKmsKeys, CreateKmsKeyRequest, ImportKmsKeyMaterialRequest, KmsImportParameters, KmsKeyMetadata, KmsTag } from '../../core/ports/aws-kms-keys';

/** Pages read of ListAliases / ListResourceTags before giving up (100 entries a page). */
const MAX_PAGES = 50;

export abstract class SdkKmsKeys implements AwsKmsKeys {
  /** Runs one KMS call in `at` with throttling retries and error translation. */
  protected abstract call<T>(at: KmsLocation, operation: string, send: (kms: KMSClient) => Promise<T>): Promise<T>;

  async createKey(at: KmsLocation, request: CreateKmsKeyRequest): Promise<KmsKeyMetadata> {
    const store = request.externalKeyStore;
    const answer = await this.call(at, 'CreateKey', (kms) =>
      kms.send(
        new CreateKeyCommand({
          KeyUsage: (request.keyUsage ?? 'ENCRYPT_DECRYPT') as KeyUsageType,
          KeySpec: (request.keySpec ?? 'SYMMETRIC_DEFAULT') as KeySpec,
          ...(store === undefined ? {} : { Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: store.customKeyStoreId, XksKeyId: store.xksKeyId }),
          ...(request.origin === undefined ? {} : { Origin: request.origin }),
          ...(request.multiRegion === undefined ? {} : { MultiRegion: request.multiRegion }),
          ...(request.cloudHsmKeyStore === undefined ? {} : { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: request.cloudHsmKeyStore.customKeyStoreId }),
          ...(request.description === undefined ? {} : { Description: request.description }),
          ...(request.policy === undefined ? {} : { Policy: request.policy }),
          ...(request.bypassPolicyLockoutSafetyCheck === undefined ? {} : { BypassPolicyLockoutSafetyCheck: request.bypassPolicyLockoutSafetyCheck }),
          ...(request.tags === undefined ? {} : { Tags: request.tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })) }),
        }),
      ),
    );
    return metadataOf(answer.KeyMetadata, at, 'CreateKey');
  }

  async describeKeyMetadata(at: KmsLocation, keyId: string): Promise<KmsKeyMetadata> {
    const answer = await this.call(at, 'DescribeKey', (kms) => kms.send(new DescribeKeyCommand({ KeyId: keyId })));
    return metadataOf(answer.KeyMetadata, at, 'DescribeKey');
  }

  async listKeyAliases(at: KmsLocation, keyId: string): Promise<string[]> {
    const names: string[] = [];
    let marker: string | undefined;
    for (let pages = 0; pages < MAX_PAGES; pages += 1) {
      const answer = await this.call(at, 'ListAliases', (kms) => kms.send(new ListAliasesCommand({ KeyId: keyId, ...(marker === undefined ? {} : { Marker: marker }) })));
      names.push(...(answer.Aliases ?? []).flatMap((a) => (a.AliasName ? [a.AliasName] : [])));
      marker = answer.Truncated ? answer.NextMarker : undefined;
      if (marker === undefined) break;
    }
    return names;
  }

  async listKeyTags(at: KmsLocation, keyId: string): Promise<KmsTag[]> {
    const tags: KmsTag[] = [];
    let marker: string | undefined;
    for (let pages = 0; pages < MAX_PAGES; pages += 1) {
      const answer = await this.call(at, 'ListResourceTags', (kms) => kms.send(new ListResourceTagsCommand({ KeyId: keyId, ...(marker === undefined ? {} : { Marker: marker }) })));
      tags.push(...(answer.Tags ?? []).map((t) => ({ TagKey: t.TagKey ?? '', TagValue: t.TagValue ?? '' })));
      marker = answer.Truncated ? answer.NextMarker : undefined;
      if (marker === undefined) break;
    }
    return tags;
  }

  async getKeyPolicy(at: KmsLocation, keyId: string): Promise<string> {
    const answer = await this.call(at, 'GetKeyPolicy', (kms) => kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })));
    return answer.Policy ?? '';
  }

  async getKeyRotationStatus(at: KmsLocation, keyId: string): Promise<boolean | undefined> {
    try {
      const answer = await this.call(at, 'GetKeyRotationStatus', (kms) => kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId })));
      return answer.KeyRotationEnabled ?? false;
    } catch (error) {
      // Keys AWS KMS cannot rotate automatically; the adapter's table answers it as a bad request.
      if (isError(error, DependencyError) || isError(error, ValidationError)) {
        if (/UnsupportedOperationException/.test(error.message)) return undefined;
      }
      throw error;
    }
  }

  async enableKey(at: KmsLocation, keyId: string): Promise<void> {
    await this.call(at, 'EnableKey', (kms) => kms.send(new EnableKeyCommand({ KeyId: keyId })));
  }

  async disableKey(at: KmsLocation, keyId: string): Promise<void> {
    await this.call(at, 'DisableKey', (kms) => kms.send(new DisableKeyCommand({ KeyId: keyId })));
  }

  async scheduleKeyDeletion(at: KmsLocation, keyId: string, days: number): Promise<void> {
    await this.call(at, 'ScheduleKeyDeletion', (kms) => kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: days })));
  }

  async cancelKeyDeletion(at: KmsLocation, keyId: string): Promise<void> {
    await this.call(at, 'CancelKeyDeletion', (kms) => kms.send(new CancelKeyDeletionCommand({ KeyId: keyId })));
  }

  async createAlias(at: KmsLocation, alias: string, keyId: string): Promise<void> {
    await this.call(at, 'CreateAlias', (kms) => kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId })));
  }

  async deleteAlias(at: KmsLocation, alias: string): Promise<void> {
    await this.call(at, 'DeleteAlias', (kms) => kms.send(new DeleteAliasCommand({ AliasName: alias })));
  }

  async updateKeyDescription(at: KmsLocation, keyId: string, description: string): Promise<void> {
    await this.call(at, 'UpdateKeyDescription', (kms) => kms.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: description })));
  }

  async tagKey(at: KmsLocation, keyId: string, tags: readonly KmsTag[]): Promise<void> {
    await this.call(at, 'TagResource', (kms) => kms.send(new TagResourceCommand({ KeyId: keyId, Tags: tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })) })));
  }

  async untagKey(at: KmsLocation, keyId: string, tagKeys: readonly string[]): Promise<void> {
    await this.call(at, 'UntagResource', (kms) => kms.send(new UntagResourceCommand({ KeyId: keyId, TagKeys: [...tagKeys] })));
  }

  async putKeyPolicy(at: KmsLocation, keyId: string, policy: string, bypassPolicyLockoutSafetyCheck?: boolean): Promise<void> {
    await this.call(at, 'PutKeyPolicy', (kms) =>
      kms.send(
        new PutKeyPolicyCommand({
          KeyId: keyId,
          PolicyName: 'default',
          Policy: policy,
          ...(bypassPolicyLockoutSafetyCheck === undefined ? {} : { BypassPolicyLockoutSafetyCheck: bypassPolicyLockoutSafetyCheck }),
        }),
      ),
    );
  }

  async getParametersForImport(at: KmsLocation, keyId: string, wrappingAlgorithm: string, wrappingKeySpec: string): Promise<KmsImportParameters> {
    const answer = await this.call(at, 'GetParametersForImport', (kms) =>
      kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: wrappingAlgorithm as AlgorithmSpec, WrappingKeySpec: wrappingKeySpec as WrappingKeySpec })),
    );
    if (answer.ImportToken === undefined || answer.PublicKey === undefined) {
      throw new DependencyError(`AWS KMS GetParametersForImport in account ${at.accountId} (${at.region}) answered without an import token or public key`);
    }
    return { importToken: answer.ImportToken, publicKey: answer.PublicKey, ...(answer.ParametersValidTo === undefined ? {} : { parametersValidTo: answer.ParametersValidTo.toISOString() }) };
  }

  async importKeyMaterial(at: KmsLocation, keyId: string, request: ImportKmsKeyMaterialRequest): Promise<void> {
    await this.call(at, 'ImportKeyMaterial', (kms) =>
      kms.send(
        new ImportKeyMaterialCommand({
          KeyId: keyId,
          ImportToken: request.importToken,
          EncryptedKeyMaterial: request.encryptedKeyMaterial,
          ...(request.validTo === undefined ? { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' } : { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(request.validTo) }),
        }),
      ),
    );
  }

  async deleteImportedKeyMaterial(at: KmsLocation, keyId: string): Promise<void> {
    await this.call(at, 'DeleteImportedKeyMaterial', (kms) => kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: keyId })));
  }
}

/** The SDK's KeyMetadata with dates as ISO strings and absent fields left out. */
export function metadataOf(key: KeyMetadata | undefined, at: KmsLocation, operation: string): KmsKeyMetadata {
  if (!key?.KeyId || !key.Arn) throw new DependencyError(`AWS KMS ${operation} in account ${at.accountId} (${at.region}) answered without key metadata`);
  const entries = Object.entries(key).flatMap(([name, value]): Array<[string, unknown]> => {
    if (value === undefined || value === null) return [];
    if (value instanceof Date) return [[name, value.toISOString()]];
    return [[name, value]];
  });
  return { ...(Object.fromEntries(entries) as Partial<KmsKeyMetadata>), KeyId: key.KeyId, Arn: key.Arn, KeyState: key.KeyState ?? 'Unknown' };
}
