/**
 * The XKS proxy's one error table: every `errorName` of the spec's "Error codes" table and its
 * HTTP status, nothing more (the XKS Proxy API spec, "Error codes"). Operations throw `XksError`;
 * the core turns it into `{errorName, errorMessage}`. The cause (an HsmError, a state-source
 * failure) is kept on the error for the log and never sent.
 */
import { HsmError } from '../core/ports/hsm';
import type { HsmFailureReason } from '../contract/hsm';
import { jsonResponse, type XksResponse } from './http';
import { isError } from '../core/errors';

export type XksErrorName =
  | 'ValidationException'
  | 'InvalidStateException'
  | 'InvalidCiphertextException'
  | 'InvalidKeyUsageException'
  | 'AuthenticationFailedException'
  | 'AccessDeniedException'
  | 'KeyNotFoundException'
  | 'InvalidUriPathException'
  | 'ThrottlingException'
  | 'UnsupportedOperationException'
  | 'DependencyTimeoutException'
  | 'InternalException';

export const XKS_ERROR_STATUS: Readonly<Record<XksErrorName, number>> = {
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
};

/**
 * Every failure the proxy answers, by name: the spec's errorNames, plus the one HTTP-level answer
 * the spec gives without an errorName ("405 Method Not Allowed", an empty body with `Allow`).
 */
export type XksFailureName = XksErrorName | 'MethodNotAllowed';

export const XKS_FAILURE_STATUS: Readonly<Record<XksFailureName, number>> = { ...XKS_ERROR_STATUS, MethodNotAllowed: 405 };

/** The spec caps `errorMessage` below 512 characters of printable ASCII (0x20–0x7e). */
export const MAX_ERROR_MESSAGE_LENGTH = 511;

export function printableAscii(message: string, maxLength = MAX_ERROR_MESSAGE_LENGTH): string {
  return message.replace(/[^\x20-\x7e]/g, '?').slice(0, maxLength);
}

export interface XksErrorOptions extends ErrorOptions {
  /** MethodNotAllowed: the methods the URI takes (the `Allow` header). */
  readonly allow?: string;
}

export class XksError extends Error {
  readonly status: number;
  private readonly allow?: string;

  constructor(
    readonly errorName: XksFailureName,
    message: string,
    options?: XksErrorOptions,
  ) {
    super(printableAscii(message), options);
    this.name = 'XksError';
    this.status = XKS_FAILURE_STATUS[errorName];
    this.allow = options?.allow;
  }

  toJSON(): { errorName: XksFailureName; errorMessage: string } {
    return { errorName: this.errorName, errorMessage: this.message };
  }

  /** The answer to the caller: the spec's error body, or 405 with `Allow` and no body. */
  toResponse(): XksResponse {
    if (this.errorName === 'MethodNotAllowed') return { status: 405, headers: { allow: this.allow ?? 'POST' }, body: '' };
    return jsonResponse(this.status, this.toJSON());
  }
}

/**
 * HsmError reason → errorName, in one place. Decrypt failures of any kind (tag, AAD, IV,
 * ciphertext) are InvalidCiphertextException; an HSM that does not answer in time is a
 * dependency timeout; everything that means the HSM itself is not usable is InternalException.
 */
const HSM_REASON_TO_ERROR: Readonly<Record<HsmFailureReason, { name: XksErrorName; message: string }>> = {
  KEY_NOT_FOUND: { name: 'KeyNotFoundException', message: 'The external key was not found in the external key manager' },
  KEY_FUNCTION_NOT_PERMITTED: { name: 'InvalidKeyUsageException', message: 'The external key does not support the requested operation' },
  DECRYPT_FAILED: {
    name: 'InvalidCiphertextException',
    message: 'The ciphertext, initialization vector, additional authenticated data or authentication tag is corrupted, missing, or otherwise invalid',
  },
  TOKEN_NOT_FOUND: { name: 'InternalException', message: 'The external key manager is not available' },
  LOGIN_FAILED: { name: 'InternalException', message: 'The proxy cannot log in to the external key manager' },
  TIMEOUT: { name: 'DependencyTimeoutException', message: 'The external key manager did not answer in time' },
  DEVICE_ERROR: { name: 'InternalException', message: 'The external key manager failed to perform the operation' },
};

export function xksErrorFromHsm(error: HsmError): XksError {
  const mapped = HSM_REASON_TO_ERROR[error.reason];
  return new XksError(mapped.name, mapped.message, { cause: error });
}

/** Any failure → an XksError; unknown failures become InternalException (the cause is logged, not sent). */
export function toXksError(error: unknown): XksError {
  if (error instanceof XksError) return error;
  if (isError(error, HsmError)) return xksErrorFromHsm(error);
  return new XksError('InternalException', 'The proxy failed to process the request', { cause: error });
}
