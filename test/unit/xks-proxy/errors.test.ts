import { HsmError } from '../../../lambdas/core/ports/hsm';
import type { HsmFailureReason } from '../../../lambdas/contract/hsm';
import { printableAscii, toXksError, XKS_ERROR_STATUS, XksError } from '../../../lambdas/xks-proxy/errors';

describe('XKS error table', () => {
  it('has exactly the names and status codes of the spec table', () => {
    expect(XKS_ERROR_STATUS).toEqual({
      ValidationException: 400,
      InvalidStateException: 400,
      InvalidCiphertextException: 400,
      InvalidKeyUsageException: 400,
      AuthenticationFailedException: 401,
      AccessDeniedException: 403,
      KeyNotFoundException: 404,
      InvalidUriPathException: 404,
      ThrottlingException: 429,
      UnsupportedOperationException: 501,
      DependencyTimeoutException: 503,
      InternalException: 500,
    });
  });

  it('serialises to {errorName, errorMessage} with a short printable ASCII message', () => {
    const error = new XksError('ValidationException', `bad\u0000input \u00e9${'x'.repeat(600)}`);
    const body = error.toJSON();
    expect(Object.keys(body)).toEqual(['errorName', 'errorMessage']);
    expect(body.errorMessage.length).toBeLessThan(512);
    expect(body.errorMessage).toMatch(/^[\x20-\x7e]*$/);
    expect(error.status).toBe(400);
  });

  it('keeps only printable ASCII', () => {
    expect(printableAscii('a\tb\nc~')).toBe('a?b?c~');
  });
});

describe('HsmError → errorName', () => {
  it.each<[HsmFailureReason, string, number]>([
    ['KEY_NOT_FOUND', 'KeyNotFoundException', 404],
    ['KEY_FUNCTION_NOT_PERMITTED', 'InvalidKeyUsageException', 400],
    ['DECRYPT_FAILED', 'InvalidCiphertextException', 400],
    ['TOKEN_NOT_FOUND', 'InternalException', 500],
    ['LOGIN_FAILED', 'InternalException', 500],
    ['TIMEOUT', 'DependencyTimeoutException', 503],
    ['DEVICE_ERROR', 'InternalException', 500],
  ])('%s → %s', (reason, errorName, status) => {
    const cause = new HsmError(reason, 'CKR_X', 'C_Encrypt failed: CKR_X');
    const mapped = toXksError(cause);
    expect(mapped.errorName).toBe(errorName);
    expect(mapped.status).toBe(status);
    expect(mapped.cause).toBe(cause);
    // The PKCS#11 detail stays in the cause, never in the message sent to KMS.
    expect(mapped.message).not.toContain('CKR_X');
  });

  it('turns unknown failures into InternalException without their message', () => {
    const mapped = toXksError(new Error('secret detail'));
    expect(mapped.errorName).toBe('InternalException');
    expect(mapped.message).not.toContain('secret detail');
  });
});
