/**
 * The rules of a BYOK upload (README "BYOK upload"), checked whole before AWS KMS is called: which
 * AWS KMS key spec an HSM key is, the key usage (defaults per CCKM's upload documentation), when
 * the material expires, which wrapping algorithm the partition's HSM can do, and which HSM keys
 * may be uploaded at all (sensitive and extractable, so they leave the HSM only wrapped).
 */
import type { HsmType } from '../../contract/hsm';
import type { ImportWrappingAlgorithm } from '../../contract/hsm-key-types';
import { ValidationError } from '../errors';
import type { HsmKeyData } from '../hsm/hsm-key';
import { IMPORT_OAEP_HASH } from '../hsm/hsm-key-types';
import { SOURCE_KEY_TIER_BY_HSM_TYPE, type SourceKeyTier, normalizeSourceKeyTier } from '../key-stores/key-store';

/** The wrapping key AWS KMS is asked for: the largest it offers. */
export const WRAPPING_KEY_SPEC = 'RSA_4096';

const EC_KEY_SPECS: Readonly<Record<string, string>> = {
  'P-256': 'ECC_NIST_P256',
  'P-384': 'ECC_NIST_P384',
  'P-521': 'ECC_NIST_P521',
  secp256k1: 'ECC_SECG_P256K1',
};

/** AWS KMS's KeySpec of the HSM key's material; undefined for a key AWS KMS cannot import. */
export function awsKeySpecOf(key: Pick<HsmKeyData, 'keyType' | 'sizeBits' | 'curve'>): string | undefined {
  switch (key.keyType) {
    case 'AES':
      return key.sizeBits === 256 ? 'SYMMETRIC_DEFAULT' : undefined;
    case 'RSA':
      return [2048, 3072, 4096].includes(key.sizeBits) ? `RSA_${key.sizeBits}` : undefined;
    case 'EC':
      return key.curve === undefined ? undefined : EC_KEY_SPECS[key.curve];
    case 'GENERIC_SECRET':
      return [224, 256, 384, 512].includes(key.sizeBits) ? `HMAC_${key.sizeBits}` : undefined;
    default:
      return undefined;
  }
}

/** The usages a key spec may have, the first being the default (none for RSA: it must be given). */
function usagesOf(keySpec: string): { readonly allowed: readonly string[]; readonly defaultUsage?: string } {
  if (keySpec === 'SYMMETRIC_DEFAULT') return { allowed: ['ENCRYPT_DECRYPT'], defaultUsage: 'ENCRYPT_DECRYPT' };
  if (keySpec.startsWith('HMAC_')) return { allowed: ['GENERATE_VERIFY_MAC'], defaultUsage: 'GENERATE_VERIFY_MAC' };
  if (keySpec.startsWith('ECC_')) return { allowed: ['SIGN_VERIFY'], defaultUsage: 'SIGN_VERIFY' };
  return { allowed: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'] };
}

/** The key spec and usage of the KMS key (400 naming the aws_param field that does not fit the HSM key). */
export function keySpecAndUsage(key: HsmKeyData, requested: { readonly CustomerMasterKeySpec?: string; readonly KeyUsage?: string }, keyName: string): { keySpec: string; keyUsage: string } {
  const keySpec = awsKeySpecOf(key);
  if (keySpec === undefined) throw new ValidationError(`HSM key ${keyName} (${key.keyType}-${key.sizeBits}) has no AWS KMS key spec`, 'source_key_identifier');
  if (requested.CustomerMasterKeySpec !== undefined && requested.CustomerMasterKeySpec !== keySpec) {
    throw new ValidationError(`must be ${keySpec}, the key spec of HSM key ${keyName}, not ${requested.CustomerMasterKeySpec}`, 'aws_param.CustomerMasterKeySpec');
  }
  const { allowed, defaultUsage } = usagesOf(keySpec);
  const keyUsage = requested.KeyUsage ?? defaultUsage;
  if (keyUsage === undefined) throw new ValidationError(`is required for ${keySpec} keys: ${allowed.join(' or ')}`, 'aws_param.KeyUsage');
  if (!allowed.includes(keyUsage)) throw new ValidationError(`${keySpec} keys take ${allowed.join(' or ')}, not ${keyUsage}`, 'aws_param.KeyUsage');
  return { keySpec, keyUsage };
}

/**
 * RSAES_OAEP_* for secret keys (AES, HMAC: the material fits one RSA-OAEP block), RSA_AES_KEY_WRAP_*
 * for private keys; SHA-1 or SHA-256 as the partition's HSM type can wrap (hsm-key-types.ts).
 */
export function wrappingAlgorithmFor(key: Pick<HsmKeyData, 'keyType'>, hsmType: HsmType): ImportWrappingAlgorithm {
  const hash = IMPORT_OAEP_HASH[hsmType];
  const secret = key.keyType === 'AES' || key.keyType === 'GENERIC_SECRET';
  return `${secret ? 'RSAES_OAEP' : 'RSA_AES_KEY_WRAP'}_${hash}`;
}

/**
 * When the imported material expires: `ValidTo` (RFC 3339, in the future) with `KeyExpiration`
 * true or absent; none without ValidTo. AWS KMS's own upper bound (365 days today) is AWS KMS's to
 * check: its refusal comes back naming the ImportKeyMaterial step.
 */
export function materialValidTo(request: { readonly KeyExpiration?: boolean; readonly ValidTo?: string }, now: Date, fieldPrefix = 'aws_param.'): string | undefined {
  const field = `${fieldPrefix}ValidTo`;
  if (request.ValidTo === undefined) {
    if (request.KeyExpiration === true) throw new ValidationError('is required when KeyExpiration is true', field);
    return undefined;
  }
  if (request.KeyExpiration === false) throw new ValidationError('KeyExpiration is false, so the material does not expire: leave out ValidTo or set KeyExpiration true', 'KeyExpiration');
  const validTo = new Date(request.ValidTo);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(request.ValidTo) || Number.isNaN(validTo.getTime())) {
    throw new ValidationError(`must be an RFC 3339 date and time (2026-12-31T23:59:59Z), not ${JSON.stringify(request.ValidTo)}`, field);
  }
  if (validTo.getTime() <= now.getTime()) throw new ValidationError(`must be in the future (${request.ValidTo} is not)`, field);
  return validTo.toISOString();
}

/**
 * The HSM tiers only (`hsm-luna`, `hsm-cloudhsm`, `hsm-softhsm`), matching the key's partition. The
 * seeds' default tier `local` (keys of the key manager itself) and `dsm`/`external-cm` do not exist here.
 */
export function checkSourceTier(requested: string | undefined, hsmType: HsmType): SourceKeyTier {
  const tier = SOURCE_KEY_TIER_BY_HSM_TYPE[hsmType];
  const normalized = normalizeSourceKeyTier(requested ?? 'local');
  if (normalized === 'local' || normalized === 'dsm' || normalized === 'external-cm') {
    throw new ValidationError(`${normalized}${requested === undefined ? ' (the default)' : ''} is not a key source of this key manager, which has no ${normalized} key tier yet: give the HSM tier of the key, ${tier}`, 'source_key_tier');
  }
  if (normalized !== tier) throw new ValidationError(`must be ${tier}, the tier of the key's HSM partition`, 'source_key_tier');
  return tier;
}

/** Only a key that leaves the HSM wrapped and nothing else may be uploaded: available, CKA_SENSITIVE and CKA_EXTRACTABLE. */
export function checkUploadable(key: HsmKeyData, keyName: string): void {
  if (key.status !== 'AVAILABLE') throw new ValidationError(`HSM key ${keyName} is ${key.status}, not AVAILABLE`, 'source_key_identifier');
  const missing = (['CKA_SENSITIVE', 'CKA_EXTRACTABLE'] as const).filter((name) => !key.attributes[name]);
  if (missing.length > 0) {
    throw new ValidationError(`HSM key ${keyName} cannot be uploaded: it needs ${missing.join(' and ')} (as the HSM reports it), so that it leaves the HSM only wrapped for AWS KMS`, 'source_key_identifier');
  }
}
