import * as pkcs11js from 'pkcs11js';
import { invalidatesConnection, toHsmError } from '../../../lambdas/adapters/pkcs11/errors';
import { HsmError } from '../../../lambdas/core/ports/hsm';

/** A failure exactly as pkcs11js raises it. */
const pkcs11Failure = (name: string): Error => new pkcs11js.Pkcs11Error(`${name}:0`);

describe('toHsmError', () => {
  it.each([
    ['CKR_KEY_FUNCTION_NOT_PERMITTED', 'C_EncryptInit', 'KEY_FUNCTION_NOT_PERMITTED'],
    ['CKR_KEY_FUNCTION_NOT_PERMITTED', 'C_DecryptInit', 'KEY_FUNCTION_NOT_PERMITTED'],
    ['CKR_ENCRYPTED_DATA_INVALID', 'C_Decrypt', 'DECRYPT_FAILED'],
    ['CKR_ENCRYPTED_DATA_LEN_RANGE', 'C_Decrypt', 'DECRYPT_FAILED'],
    ['CKR_MECHANISM_PARAM_INVALID', 'C_DecryptInit', 'DECRYPT_FAILED'],
    ['CKR_VENDOR_AES_GCM_TAG_INVALID', 'C_Decrypt', 'DECRYPT_FAILED'],
    ['CKR_GENERAL_ERROR', 'C_Encrypt', 'DEVICE_ERROR'],
    ['CKR_ENCRYPTED_DATA_INVALID', 'C_Encrypt', 'DEVICE_ERROR'],
    ['CKR_PIN_INCORRECT', 'C_Login', 'LOGIN_FAILED'],
    ['CKR_PIN_LOCKED', 'C_Login', 'LOGIN_FAILED'],
    ['CKR_PIN_EXPIRED', 'C_Login', 'LOGIN_FAILED'],
    ['CKR_TOKEN_NOT_PRESENT', 'C_OpenSession', 'TOKEN_NOT_FOUND'],
    ['CKR_DEVICE_REMOVED', 'C_Encrypt', 'TOKEN_NOT_FOUND'],
    ['CKR_SLOT_ID_INVALID', 'C_OpenSession', 'TOKEN_NOT_FOUND'],
    ['CKR_SESSION_HANDLE_INVALID', 'C_EncryptInit', 'DEVICE_ERROR'],
    ['CKR_OBJECT_HANDLE_INVALID', 'C_EncryptInit', 'DEVICE_ERROR'],
    ['CKR_DEVICE_ERROR', 'C_Encrypt', 'DEVICE_ERROR'],
  ])('maps %s from %s to %s', (returnCode, pkcs11Function, reason) => {
    const error = toHsmError(pkcs11Failure(returnCode), pkcs11Function);

    expect(error).toBeInstanceOf(HsmError);
    expect(error).toMatchObject({ reason, returnCode, message: `${pkcs11Function} failed: ${returnCode}` });
    expect(error.cause).toBeInstanceOf(pkcs11js.Pkcs11Error);
  });

  it('reads CKR_GENERAL_ERROR and CKR_FUNCTION_FAILED from C_Decrypt as a bad ciphertext on SoftHSM2 only', () => {
    for (const code of ['CKR_GENERAL_ERROR', 'CKR_FUNCTION_FAILED']) {
      expect(toHsmError(pkcs11Failure(code), 'C_Decrypt', 'softhsm').reason).toBe('DECRYPT_FAILED');
      expect(toHsmError(pkcs11Failure(code), 'C_Decrypt', 'luna').reason).toBe('DEVICE_ERROR');
      expect(toHsmError(pkcs11Failure(code), 'C_Decrypt', 'cloudhsm').reason).toBe('DEVICE_ERROR');
      expect(toHsmError(pkcs11Failure(code), 'C_Decrypt').reason).toBe('DEVICE_ERROR');
    }
  });

  it('keeps an HsmError as it is', () => {
    const original = new HsmError('TIMEOUT', undefined, 'late');

    expect(toHsmError(original, 'C_Encrypt')).toBe(original);
  });

  it('reports a native failure without a return code (library not loadable) as DEVICE_ERROR', () => {
    const error = toHsmError(new pkcs11js.NativeError('dlopen: cannot open shared object file'), 'load');

    expect(error).toMatchObject({ reason: 'DEVICE_ERROR', returnCode: undefined });
    expect(error.message).toBe('load failed: dlopen: cannot open shared object file');
  });
});

describe('invalidatesConnection', () => {
  it.each([
    ['DEVICE_ERROR', true],
    ['TOKEN_NOT_FOUND', true],
    ['TIMEOUT', false],
    ['DECRYPT_FAILED', false],
    ['KEY_FUNCTION_NOT_PERMITTED', false],
    ['KEY_NOT_FOUND', false],
    ['LOGIN_FAILED', false],
  ] as const)('%s → %s', (reason, expected) => {
    expect(invalidatesConnection(new HsmError(reason, undefined, 'x'))).toBe(expected);
  });
});
