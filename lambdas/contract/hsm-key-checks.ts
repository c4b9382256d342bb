/**
 * Checks of the HSM agent protocol's typed-key and key-material arguments (see
 * hsm-agent-protocol.ts): the key type with its size or curve, wrap-for-import and HMAC requests.
 */
import { type Check, fail, record, text } from './protocol-checks';
import {
  EC_CURVE_BITS,
  EC_CURVES,
  HMAC_ALGORITHMS,
  HSM_KEY_TYPES,
  IMPORT_WRAPPING_ALGORITHMS,
  KEY_SIZES,
  type EcCurve,
  type HsmKeyType,
  type SignHmacRequest,
  type WrapForImportRequest,
} from './hsm-key-types';

const base64: Check<string> = (value, path) =>
  typeof value === 'string' && value.length > 0 && value.length <= 65_536 && /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? value : fail(path, 'a base64 string of at most 48 KiB');

/** `keyType` (default AES), `sizeBits` allowed for it, and `curve` for EC keys. */
export function typedKeyFields(fields: Record<string, unknown>, path: string): { keyType: HsmKeyType; sizeBits: number; curve?: EcCurve } {
  const keyType = fields.keyType ?? 'AES';
  if (!HSM_KEY_TYPES.includes(keyType as HsmKeyType)) fail(`${path}.keyType`, `one of ${HSM_KEY_TYPES.join(', ')}`);
  if (keyType === 'EC') {
    const curve = fields.curve as EcCurve;
    if (!EC_CURVES.includes(curve)) fail(`${path}.curve`, `one of ${EC_CURVES.join(', ')}`);
    if (fields.sizeBits !== EC_CURVE_BITS[curve]) fail(`${path}.sizeBits`, `${EC_CURVE_BITS[curve]} (the curve's size)`);
    return { keyType, sizeBits: EC_CURVE_BITS[curve], curve };
  }
  const sizes = KEY_SIZES[keyType as Exclude<HsmKeyType, 'EC'>];
  if (!sizes.includes(fields.sizeBits as number)) fail(`${path}.sizeBits`, `one of ${sizes.join(', ')}`);
  if (fields.curve !== undefined) fail(`${path}.curve`, 'absent (EC keys only)');
  return { keyType: keyType as HsmKeyType, sizeBits: fields.sizeBits as number };
}

export const wrapForImportRequest: Check<WrapForImportRequest> = (value, path) => {
  const fields = record(value, path);
  const algorithm = fields.algorithm;
  if (!IMPORT_WRAPPING_ALGORITHMS.includes(algorithm as WrapForImportRequest['algorithm'])) fail(`${path}.algorithm`, `one of ${IMPORT_WRAPPING_ALGORITHMS.join(', ')}`);
  return { wrappingPublicKey: base64(fields.wrappingPublicKey, `${path}.wrappingPublicKey`), algorithm: algorithm as WrapForImportRequest['algorithm'] };
};

export const signHmacRequest: Check<SignHmacRequest> = (value, path) => {
  const fields = record(value, path);
  const algorithm = fields.algorithm;
  if (!HMAC_ALGORITHMS.includes(algorithm as SignHmacRequest['algorithm'])) fail(`${path}.algorithm`, `one of ${HMAC_ALGORITHMS.join(', ')}`);
  return { message: base64(text(fields.message, `${path}.message`), `${path}.message`), algorithm: algorithm as SignHmacRequest['algorithm'] };
};
