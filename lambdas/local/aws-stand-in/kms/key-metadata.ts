/** KeyMetadata (DescribeKey, CreateKey) from a key record, with the fields AWS shows for its kind. */
import type { JsonObject, OperationContext } from '../operation-registry';
import { effectiveKeyState } from './key-lookup';
import type { KmsKeyRecord } from './key-record';
import { algorithmsOf } from './key-specs';

export function keyMetadataOf(context: OperationContext, key: KmsKeyRecord): JsonObject {
  const keyState = effectiveKeyState(context, key);
  const origin = context.runtime.registry.findKeyOrigin(key.origin);
  return {
    AWSAccountId: key.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.creationDate,
    Enabled: keyState === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: keyState,
    ...(key.deletionDate !== undefined && keyState === 'PendingDeletion' ? { DeletionDate: key.deletionDate } : {}),
    ...(key.validTo !== undefined ? { ValidTo: key.validTo } : {}),
    Origin: key.origin,
    ...(key.customKeyStoreId !== undefined ? { CustomKeyStoreId: key.customKeyStoreId } : {}),
    ...(key.cloudHsmClusterId !== undefined ? { CloudHsmClusterId: key.cloudHsmClusterId } : {}),
    ...(key.expirationModel !== undefined ? { ExpirationModel: key.expirationModel } : {}),
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    ...algorithmsOf(key.keySpec, key.keyUsage),
    MultiRegion: key.multiRegion,
    ...(key.xksKeyId !== undefined ? { XksKeyConfiguration: { Id: key.xksKeyId } } : {}),
    ...(key.currentKeyMaterialId !== undefined ? { CurrentKeyMaterialId: key.currentKeyMaterialId } : {}),
    ...(origin?.describe?.(key) ?? {}),
  };
}
