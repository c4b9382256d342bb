/**
 * Which key types each HSM type generates, and the rules of a CreateHsmKey request's type: the
 * mechanism picks the type (PKCS#11 names), `size` or `curve` its size, and a key that may leave
 * the HSM at all may leave it only wrapped. Also what each HSM type can do when a key is wrapped
 * for import into AWS KMS (README "BYOK upload").
 */
import type { HsmType, KeyAttributeName } from '../../contract/hsm';
import {
  EC_CURVE_BITS,
  EC_CURVES,
  GENERATION_MECHANISMS,
  KEY_SIZES,
  type EcCurve,
  type GenerationMechanism,
  type HsmKeyType,
} from '../../contract/hsm-key-types';
import { ValidationError } from '../errors';

/**
 * Key types generated per HSM type. SoftHSM2 and CloudHSM generate them all; for Luna partitions
 * the key manager offers AES, RSA and EC keys, the Luna column of CCKM's upload key types.
 */
export const KEY_TYPES_BY_HSM_TYPE: Readonly<Record<HsmType, readonly HsmKeyType[]>> = {
  softhsm: ['AES', 'RSA', 'EC', 'GENERIC_SECRET'],
  cloudhsm: ['AES', 'RSA', 'EC', 'GENERIC_SECRET'],
  luna: ['AES', 'RSA', 'EC'],
};

/**
 * The hash of RSA-OAEP when a key is wrapped for AWS KMS, per HSM type: SoftHSM2 2.6's C_WrapKey
 * takes CKM_RSA_PKCS_OAEP with SHA-1 only (CKR_ARGUMENTS_BAD for SHA-256), so SoftHSM2 partitions
 * use AWS KMS's RSAES_OAEP_SHA_1 / RSA_AES_KEY_WRAP_SHA_1; Luna and CloudHSM wrap with OAEP over
 * SHA-256 (RSAES_OAEP_SHA_256 / RSA_AES_KEY_WRAP_SHA_256).
 */
export const IMPORT_OAEP_HASH: Readonly<Record<HsmType, 'SHA_1' | 'SHA_256'>> = {
  softhsm: 'SHA_1',
  luna: 'SHA_256',
  cloudhsm: 'SHA_256',
};

/** A generated key's type as requested: what the HSM must report back. */
export interface HsmKeySpec {
  readonly mechanism: GenerationMechanism;
  readonly keyType: HsmKeyType;
  readonly sizeBits: number;
  readonly curve?: EcCurve;
}

const TYPE_OF_MECHANISM = new Map<string, HsmKeyType>(Object.entries(GENERATION_MECHANISMS).map(([type, mechanism]) => [mechanism, type as HsmKeyType]));

/** The key spec of a CreateHsmKey request (400 naming the field for a size, curve or type the partition cannot have). */
export function hsmKeySpecOf(request: { readonly mechanism?: string; readonly size?: number; readonly curve?: string }, hsmType: HsmType): HsmKeySpec {
  const mechanism = (request.mechanism ?? GENERATION_MECHANISMS.AES) as GenerationMechanism;
  const keyType = TYPE_OF_MECHANISM.get(mechanism);
  if (keyType === undefined) throw new ValidationError(`must be one of ${Object.values(GENERATION_MECHANISMS).join(', ')}`, 'mechanism');
  if (!KEY_TYPES_BY_HSM_TYPE[hsmType].includes(keyType)) {
    throw new ValidationError(`${mechanism} keys are not offered on ${hsmType} partitions (they generate ${KEY_TYPES_BY_HSM_TYPE[hsmType].map((t) => GENERATION_MECHANISMS[t]).join(', ')})`, 'mechanism');
  }
  if (keyType === 'EC') {
    if (request.size !== undefined) throw new ValidationError('EC keys take a curve, not a size', 'size');
    const curve = request.curve as EcCurve | undefined;
    if (curve === undefined || !EC_CURVES.includes(curve)) throw new ValidationError(`an EC key needs a curve, one of ${EC_CURVES.join(', ')}`, 'curve');
    return { mechanism, keyType, sizeBits: EC_CURVE_BITS[curve], curve };
  }
  if (request.curve !== undefined) throw new ValidationError(`only EC keys (${GENERATION_MECHANISMS.EC}) have a curve`, 'curve');
  const sizes = KEY_SIZES[keyType];
  const sizeBits = request.size ?? (sizes.length === 1 ? sizes[0] : undefined);
  if (sizeBits === undefined || !sizes.includes(sizeBits)) throw new ValidationError(`${mechanism} keys take a size of ${sizes.join(', ')} bits`, 'size');
  return { mechanism, keyType, sizeBits };
}

/**
 * A key that may leave the HSM leaves it only wrapped: CKA_EXTRACTABLE needs CKA_SENSITIVE
 * (the HSM then never reveals the value in the clear, C_WrapKey is the only way out).
 */
export function checkExtractableOnlyWrapped(attributes: readonly KeyAttributeName[]): void {
  if (attributes.includes('CKA_EXTRACTABLE') && !attributes.includes('CKA_SENSITIVE')) {
    throw new ValidationError('CKA_EXTRACTABLE needs CKA_SENSITIVE too: a key may leave the HSM only wrapped, never in the clear', 'attributes');
  }
}

/** Whether the HSM reported the key that was asked for. */
export function matchesSpec(info: { readonly keyType: string; readonly sizeBits: number; readonly curve?: string }, spec: HsmKeySpec): boolean {
  return info.keyType === spec.keyType && info.sizeBits === spec.sizeBits && info.curve === spec.curve;
}

/** "RSA-2048", "EC P-256", "AES-256", "GENERIC_SECRET-256": for messages. */
export function describeSpec(spec: { readonly keyType: string; readonly sizeBits: number; readonly curve?: string }): string {
  return spec.curve === undefined ? `${spec.keyType}-${spec.sizeBits}` : `${spec.keyType} ${spec.curve}`;
}
