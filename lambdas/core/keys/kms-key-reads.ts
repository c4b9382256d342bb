/**
 * Reading a KMS key's side from AWS KMS into its record: DescribeKey, its aliases, tags and policy
 * (four reads, in parallel), and where a key lives in AWS KMS.
 */
import type { AccountData } from '../accounts/account';
import { ConflictError, NotFoundError, isError } from '../errors';
import type { KmsLocation } from '../ports/aws-kms';
import type { AwsKmsKeys } from '../ports/aws-kms-keys';
import type { EntityRecord } from '../ports/state-store';
import { kmsLocation } from '../key-stores/aws-kms-links';
import { kmsKeySnapshot, type KmsKeySnapshot } from './aws-key';

/** AWS KMS's side of the key now, or `gone` when AWS KMS no longer has it. */
export async function readKmsKey(kms: AwsKmsKeys, at: KmsLocation, keyId: string, now: Date): Promise<KmsKeySnapshot | 'gone'> {
  try {
    const [metadata, aliases, tags, policy] = await Promise.all([
      kms.describeKeyMetadata(at, keyId),
      kms.listKeyAliases(at, keyId),
      kms.listKeyTags(at, keyId),
      kms.getKeyPolicy(at, keyId),
    ]);
    return kmsKeySnapshot({ metadata, aliases, tags, policy }, now.toISOString());
  } catch (error) {
    if (isError(error, NotFoundError)) return 'gone';
    throw error;
  }
}

/** The AWS KMS a key of `account` in `region` lives in (409 when the container is gone). */
export function kmsLocationOf(account: EntityRecord<AccountData> | undefined, accountId: string, region: string): KmsLocation {
  if (account === undefined) throw new ConflictError(`AWS account container ${accountId} no longer exists, so its AWS KMS cannot be reached`);
  return kmsLocation(account, region);
}
