/**
 * Replacing a CloudHSM key store's kmsuser password (PATCH, or connect with a new one) on both
 * sides, so that a refusal leaves neither changed: the new password is written to the secret
 * store, then given to AWS KMS (UpdateCustomKeyStore, which takes it only while the store is
 * DISCONNECTED); when AWS KMS refuses, the old secret is written back.
 */
import type { AwsKms, CloudHsmKeyStoreChanges, KmsLocation } from '../ports/aws-kms';
import type { SecretStore } from '../ports/secret-store';
import { secretNames } from '../secret-names';

export interface KmsuserPasswordTarget {
  readonly keyStoreId: string;
  readonly at: KmsLocation;
  /** AWS KMS's id of the store, `cks-...`. */
  readonly customKeyStoreId: string;
}

/**
 * Writes `password`, then gives it (with `changes`) to AWS KMS; when AWS KMS refuses, the old one
 * is written back and the refusal rethrown. Returns what puts the old password back in both places
 * (for a caller whose own next step fails).
 */
export async function replaceKmsuserPassword(
  deps: { readonly secrets: SecretStore; readonly awsKms: AwsKms },
  target: KmsuserPasswordTarget,
  password: string,
  changes: CloudHsmKeyStoreChanges,
): Promise<() => Promise<void>> {
  const { secrets, awsKms } = deps;
  const name = secretNames.cloudHsmPassword(target.keyStoreId);
  const old = await secrets.get(name);
  const putBack = async (): Promise<void> => {
    await (old === undefined ? secrets.delete(name) : secrets.put(name, old)).catch(() => undefined);
  };
  await secrets.put(name, password);
  try {
    await awsKms.updateCloudHsmKeyStore(target.at, target.customKeyStoreId, { ...changes, keyStorePassword: password });
  } catch (error) {
    await putBack();
    throw error;
  }
  return async () => {
    if (old !== undefined) await awsKms.updateCloudHsmKeyStore(target.at, target.customKeyStoreId, { keyStorePassword: old }).catch(() => undefined);
    await putBack();
  };
}
