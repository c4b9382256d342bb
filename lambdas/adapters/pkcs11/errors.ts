/**
 * The one mapping from PKCS#11 failures to `HsmError` reasons (the proxy maps reasons to XKS
 * errorNames in its own table). Messages carry the PKCS#11 function and return code names only:
 * pkcs11js never puts arguments (PINs, key bytes) into its errors, and neither do we.
 */
import { HsmError } from '../../core/ports/hsm';
import type { HsmFailureReason, HsmType } from '../../contract/hsm';
import { isError } from '../../core/errors';

/** A PKCS#11 failure as pkcs11js reports it: `Pkcs11Error` has the CKR_ name as message and a numeric code. */
function returnCodeOf(error: unknown): string | undefined {
  if (error instanceof Error && error.name === 'Pkcs11Error' && /^CKR_\w+$/.test(error.message)) return error.message;
  return undefined;
}

const LOGIN_FAILURES = new Set([
  'CKR_PIN_INCORRECT', 'CKR_PIN_INVALID', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_LOCKED', 'CKR_PIN_EXPIRED',
  'CKR_USER_PIN_NOT_INITIALIZED', 'CKR_USER_TYPE_INVALID',
]);

const TOKEN_MISSING = new Set([
  'CKR_TOKEN_NOT_PRESENT', 'CKR_TOKEN_NOT_RECOGNIZED', 'CKR_DEVICE_REMOVED', 'CKR_SLOT_ID_INVALID',
]);

/**
 * What a decrypt reports when the ciphertext, tag, AAD or IV is wrong, per HSM type. Every HSM uses
 * the data codes (and some a vendor code naming the tag or GCM). SoftHSM2 alone answers a bad tag
 * with CKR_GENERAL_ERROR (or CKR_FUNCTION_FAILED); on Luna and CloudHSM those codes mean the device
 * failed, so there they are DEVICE_ERROR (InternalException, the connection dropped), never a
 * ciphertext the caller is told is bad. AWS's reference proxy reads CKR_GENERAL_ERROR the same
 * way, as SoftHSM2's.
 */
const DECRYPT_FAILURES_ON_EVERY_HSM = [
  'CKR_ENCRYPTED_DATA_INVALID', 'CKR_ENCRYPTED_DATA_LEN_RANGE', 'CKR_DATA_INVALID', 'CKR_DATA_LEN_RANGE',
  'CKR_MECHANISM_PARAM_INVALID', 'CKR_SIGNATURE_INVALID',
];

const DECRYPT_FAILURES: Readonly<Record<HsmType, ReadonlySet<string>>> = {
  softhsm: new Set([...DECRYPT_FAILURES_ON_EVERY_HSM, 'CKR_GENERAL_ERROR', 'CKR_FUNCTION_FAILED']),
  luna: new Set(DECRYPT_FAILURES_ON_EVERY_HSM),
  cloudhsm: new Set(DECRYPT_FAILURES_ON_EVERY_HSM),
};

const DECRYPT_FUNCTIONS = new Set(['C_DecryptInit', 'C_Decrypt']);

function reasonFor(returnCode: string, pkcs11Function: string, hsmType: HsmType | undefined): HsmFailureReason {
  if (returnCode === 'CKR_KEY_FUNCTION_NOT_PERMITTED') return 'KEY_FUNCTION_NOT_PERMITTED';
  if (DECRYPT_FUNCTIONS.has(pkcs11Function)) {
    const failures = hsmType ? DECRYPT_FAILURES[hsmType] : new Set(DECRYPT_FAILURES_ON_EVERY_HSM);
    if (failures.has(returnCode) || /TAG|GCM/.test(returnCode)) return 'DECRYPT_FAILED';
  }
  if (LOGIN_FAILURES.has(returnCode)) return 'LOGIN_FAILED';
  if (TOKEN_MISSING.has(returnCode)) return 'TOKEN_NOT_FOUND';
  return 'DEVICE_ERROR';
}

/**
 * Maps a failure of the named PKCS#11 function (e.g. `C_Decrypt`) on an HSM of the given type to
 * an HsmError; HsmErrors pass through. Without a type, only the codes every HSM uses for a bad
 * ciphertext count as one.
 */
export function toHsmError(error: unknown, pkcs11Function: string, hsmType?: HsmType): HsmError {
  if (isError(error, HsmError)) return error;
  const returnCode = returnCodeOf(error);
  if (returnCode) {
    return new HsmError(reasonFor(returnCode, pkcs11Function, hsmType), returnCode, `${pkcs11Function} failed: ${returnCode}`, {
      cause: error,
    });
  }
  // NativeError / TypeError from pkcs11js: a library that cannot be loaded, a bad argument.
  const detail = error instanceof Error ? error.message : String(error);
  return new HsmError('DEVICE_ERROR', undefined, `${pkcs11Function} failed: ${detail}`, { cause: error });
}

/**
 * Failures after which the partition's sessions, slot and key handles can no longer be trusted:
 * they are dropped, and the next call finds the token by label and logs in again. Failures about
 * the request itself (bad ciphertext, key usage, PIN, missing key) leave the sessions alone.
 */
export function invalidatesConnection(error: HsmError): boolean {
  // Not TIMEOUT: a slow answer (or a queue for sessions) says nothing about the other sessions;
  // the session of the call that timed out is closed on its own.
  return error.reason === 'DEVICE_ERROR' || error.reason === 'TOKEN_NOT_FOUND';
}

/** Runs one blocking PKCS#11 function, mapping its failure. */
export function callPkcs11<T>(pkcs11Function: string, fn: () => T, hsmType?: HsmType): T {
  try {
    return fn();
  } catch (error) {
    throw toHsmError(error, pkcs11Function, hsmType);
  }
}
