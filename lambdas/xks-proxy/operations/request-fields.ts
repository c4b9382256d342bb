/**
 * The parts every XKS request body shares, defined per the XKS Proxy API spec field for field:
 * the JSON object itself, `requestMetadata`, Base64 byte fields and their limits. Each operation
 * module reads its own body with these (operations/encrypt.ts `parseEncryptRequest`, …).
 * Malformed input of any kind is a ValidationException naming the field, never a 500. Unknown
 * fields are ignored (KMS may add `requestMetadata` fields, Appendix B), `kmsOperation` values
 * are never rejected and `kmsRequestId` is opaque.
 */
import { XksError } from '../errors';

/**
 * Limits. Fixed sizes of the spec (ciphertextMetadata ≤ 20 bytes, a 16-byte tag, a 12- or 16-byte
 * IV) are input rules: breaking one is ValidationException. Limits of this implementation above
 * the spec's minimums (body, data, AAD, ARN lengths) answer UnsupportedOperationException, the
 * spec's error for "a parameter value exceeded the maximum size that is currently supported".
 */
/** Whole request body. Large enough for the biggest valid request (Base64 of the limits below). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Plaintext / ciphertext bytes: the spec requires at least 4,300. */
export const MAX_DATA_BYTES = 8 * 1024;
/** AAD bytes: the spec requires at least 8,192; the HSM AAD's 2-byte length caps it at 65,535. */
export const MAX_AAD_BYTES = 16 * 1024;
/** The spec requires ARNs of up to 2,048 characters. */
export const MAX_ARN_LENGTH = 2048;
export const MAX_CIPHERTEXT_METADATA_BYTES = 20;
export const IV_LENGTHS: readonly number[] = [12, 16];
export const TAG_BYTES = 16;

export interface RequestMetadata {
  readonly awsPrincipalArn?: string;
  readonly awsSourceVpc?: string;
  readonly awsSourceVpce?: string;
  readonly kmsKeyArn?: string;
  readonly kmsOperation: string;
  readonly kmsRequestId: string;
  readonly kmsViaService?: string;
}

/** A request body after JSON parsing, before the operation's validation. */
export type JsonObject = Readonly<Record<string, unknown>>;

export function invalid(message: string): XksError {
  return new XksError('ValidationException', message);
}

/** A value larger than this implementation supports (see the limits above). */
export function tooLarge(message: string): XksError {
  return new XksError('UnsupportedOperationException', message);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as a JSON object (the first step for every operation but GetHealthStatus). */
export function parseJsonObject(rawBody: Buffer): JsonObject {
  if (rawBody.length > MAX_BODY_BYTES) throw tooLarge(`The request body exceeds ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw invalid('The request body is not valid JSON');
  }
  if (!isObject(body)) throw invalid('The request body must be a JSON object');
  return body;
}

/**
 * The body as a JSON object when it is one, else an empty object: for GetHealthStatus, which the
 * spec's error table gives no ValidationException (its fields are only logged).
 */
export function parseJsonObjectIfAny(rawBody: Buffer): JsonObject {
  if (rawBody.length > MAX_BODY_BYTES) throw tooLarge(`The request body exceeds ${MAX_BODY_BYTES} bytes`);
  try {
    const body: unknown = JSON.parse(rawBody.toString('utf8'));
    return isObject(body) ? body : {};
  } catch {
    return {};
  }
}

/** What the audit line may carry even when validation fails: only strings, never payload fields. */
export function metadataForAudit(body: JsonObject | undefined): Partial<RequestMetadata> {
  const metadata = body?.requestMetadata;
  if (!isObject(metadata)) return {};
  const result: Record<string, string> = {};
  for (const field of ['awsPrincipalArn', 'awsSourceVpc', 'awsSourceVpce', 'kmsKeyArn', 'kmsOperation', 'kmsRequestId', 'kmsViaService'] as const) {
    const value = metadata[field];
    if (typeof value === 'string') result[field] = value.slice(0, MAX_ARN_LENGTH);
  }
  return result;
}

export function optionalString(object: JsonObject, field: string, path: string, maxLength?: number): string | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${path}${field} must be a string`);
  if (maxLength !== undefined && value.length > maxLength) throw tooLarge(`${path}${field} exceeds ${maxLength} characters`);
  return value;
}

export function requiredString(object: JsonObject, field: string, path: string, maxLength?: number): string {
  const value = optionalString(object, field, path, maxLength);
  if (value === undefined) throw invalid(`${path}${field} is required`);
  return value;
}

/**
 * Standard Base64 (RFC 4648 §4) only: padded, no URL-safe alphabet, no whitespace, canonical.
 * Node's decoder is lenient: it skips characters outside the alphabet (whitespace among them)
 * and reads the URL-safe `-` and `_` as `+` and `/`. So a value is canonical standard Base64 when
 * it is whole 4-character groups, every data character counted (the decoded length is what its
 * length and padding promise), it has no `-` or `_`, and its last data character carries no bits
 * past the last byte (isCanonicalBase64). Checked without making a second string: comparing with
 * the re-encoded value copied every field once more per request (5.8 KB for a 4,300-byte plaintext).
 */
export function decodeBase64(value: string, field: string): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (!isCanonicalBase64(value, bytes.length)) throw invalid(`${field} must be standard Base64 (RFC 4648 section 4, padded, canonical)`);
  return bytes;
}

const PAD = 61; // '='

/** Whether `value`, which Node's decoder made `decodedLength` bytes of, is canonical standard Base64 (see decodeBase64). */
function isCanonicalBase64(value: string, decodedLength: number): boolean {
  const { length } = value;
  if (length % 4 !== 0) return false;
  const padding = length === 0 || value.charCodeAt(length - 1) !== PAD ? 0 : value.charCodeAt(length - 2) === PAD ? 2 : 1;
  if (decodedLength !== (length / 4) * 3 - padding) return false;
  if (value.includes('-') || value.includes('_')) return false;
  if (padding === 0) return true;
  // Before one `=` the last character holds 4 bits of data and 2 unused; before two, 2 and 4.
  const unusedBits = padding === 1 ? 0b11 : 0b1111;
  return (sextet(value.charCodeAt(length - 1 - padding)) & unusedBits) === 0;
}

/** The 6-bit value of a standard Base64 character, -1 for any other. */
function sextet(code: number): number {
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 71; // a-z
  if (code >= 48 && code <= 57) return code + 4; // 0-9
  if (code === 43) return 62; // +
  if (code === 47) return 63; // /
  return -1;
}

export interface BytesRule {
  readonly min: number;
  readonly max: number;
  /** Whose limit `max` is: the spec's (ValidationException) or this implementation's (UnsupportedOperationException). */
  readonly maxIs: 'spec' | 'implementation';
}

export function optionalBytes(object: JsonObject, field: string, rule: BytesRule): Buffer | undefined {
  const encoded = optionalString(object, field, '');
  if (encoded === undefined) return undefined;
  const oversized = rule.maxIs === 'spec' ? invalid : tooLarge;
  // Reject on the encoded length first, so that an oversized value is never decoded.
  if (encoded.length > Math.ceil(rule.max / 3) * 4) throw oversized(`${field} exceeds ${rule.max} bytes`);
  const bytes = decodeBase64(encoded, field);
  if (bytes.length > rule.max) throw oversized(`${field} exceeds ${rule.max} bytes`);
  if (bytes.length < rule.min) throw invalid(`${field} must hold at least ${rule.min} byte${rule.min === 1 ? '' : 's'}`);
  return bytes;
}

export function requiredBytes(object: JsonObject, field: string, rule: BytesRule): Buffer {
  const bytes = optionalBytes(object, field, rule);
  if (bytes === undefined) throw invalid(`${field} is required`);
  return bytes;
}

export interface MetadataRules {
  readonly awsPrincipalArn: boolean;
  readonly kmsKeyArn: boolean;
}

export function requestMetadata(body: JsonObject, rules: MetadataRules): RequestMetadata {
  const metadata = body.requestMetadata;
  if (metadata === undefined || metadata === null) throw invalid('requestMetadata is required');
  if (!isObject(metadata)) throw invalid('requestMetadata must be an object');
  const path = 'requestMetadata.';
  const arn = (field: string, required: boolean): string | undefined =>
    required ? requiredString(metadata, field, path, MAX_ARN_LENGTH) : optionalString(metadata, field, path, MAX_ARN_LENGTH);
  return {
    awsPrincipalArn: arn('awsPrincipalArn', rules.awsPrincipalArn),
    awsSourceVpc: optionalString(metadata, 'awsSourceVpc', path),
    awsSourceVpce: optionalString(metadata, 'awsSourceVpce', path),
    kmsKeyArn: arn('kmsKeyArn', rules.kmsKeyArn),
    kmsOperation: requiredString(metadata, 'kmsOperation', path),
    kmsRequestId: requiredString(metadata, 'kmsRequestId', path),
    kmsViaService: optionalString(metadata, 'kmsViaService', path),
  };
}

export function encryptionAlgorithm(body: JsonObject): 'AES_GCM' {
  const value = requiredString(body, 'encryptionAlgorithm', '');
  if (value !== 'AES_GCM') throw invalid('encryptionAlgorithm must be AES_GCM');
  return value;
}

/** Plaintext and ciphertext. */
export const DATA: BytesRule = { min: 1, max: MAX_DATA_BYTES, maxIs: 'implementation' };
export const AAD: BytesRule = { min: 0, max: MAX_AAD_BYTES, maxIs: 'implementation' };
