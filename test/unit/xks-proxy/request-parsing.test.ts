import { randomBytes } from 'node:crypto';
import { XksError } from '../../../lambdas/xks-proxy/errors';
import { parseDecryptRequest } from '../../../lambdas/xks-proxy/operations/decrypt';
import { parseEncryptRequest } from '../../../lambdas/xks-proxy/operations/encrypt';
import { parseGetHealthStatusRequest } from '../../../lambdas/xks-proxy/operations/get-health-status';
import { parseGetKeyMetadataRequest } from '../../../lambdas/xks-proxy/operations/get-key-metadata';
import { decodeBase64, MAX_BODY_BYTES, parseJsonObject, parseJsonObjectIfAny } from '../../../lambdas/xks-proxy/operations/request-fields';
import { decryptBody, encryptBody, healthBody, metadataBody } from '../../xks/support/bodies';

function errorMessage(fn: () => unknown, errorName: string): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(XksError);
    expect((error as XksError).errorName).toBe(errorName);
    return (error as XksError).message;
  }
  throw new Error(`expected a ${errorName}`);
}

const validationMessage = (fn: () => unknown) => errorMessage(fn, 'ValidationException');
/** A value past this implementation's limit (above the spec's minimum): the spec's UnsupportedOperationException. */
const unsupportedMessage = (fn: () => unknown) => errorMessage(fn, 'UnsupportedOperationException');

const sealed = { ciphertext: 'AAAA', ciphertextMetadata: 'AQAAAAA=', initializationVector: Buffer.alloc(12).toString('base64'), authenticationTag: Buffer.alloc(16).toString('base64') };

describe('parseJsonObject', () => {
  it.each([['not JSON', '{'], ['an array', '[]'], ['a string', '"x"'], ['null', 'null'], ['empty', '']])('rejects %s', (_label, raw) => {
    validationMessage(() => parseJsonObject(Buffer.from(raw)));
  });

  it('answers a body larger than the limit with UnsupportedOperationException before parsing it', () => {
    expect(unsupportedMessage(() => parseJsonObject(Buffer.alloc(MAX_BODY_BYTES + 1, 0x20)))).toMatch(/exceeds/);
    expect(unsupportedMessage(() => parseJsonObjectIfAny(Buffer.alloc(MAX_BODY_BYTES + 1, 0x20)))).toMatch(/exceeds/);
  });

  it('GetHealthStatus reads anything that is no JSON object as an empty body', () => {
    for (const raw of ['{', '[]', '"x"', 'null', '']) expect(parseJsonObjectIfAny(Buffer.from(raw))).toEqual({});
  });
});

describe('request metadata', () => {
  it('GetHealthStatus takes what requestMetadata carries and refuses nothing (the spec gives it no ValidationException)', () => {
    expect(parseGetHealthStatusRequest({ requestMetadata: { kmsOperation: 'KmsHealthCheck' } }).requestMetadata).toEqual({ kmsOperation: 'KmsHealthCheck', kmsRequestId: undefined });
    expect(parseGetHealthStatusRequest({ requestMetadata: { kmsRequestId: 'r', kmsOperation: 5 } }).requestMetadata).toEqual({ kmsRequestId: 'r', kmsOperation: undefined });
    expect(parseGetHealthStatusRequest({}).requestMetadata).toEqual({ kmsRequestId: undefined, kmsOperation: undefined });
    expect(parseGetHealthStatusRequest({ requestMetadata: 'x' }).requestMetadata).toEqual({ kmsRequestId: undefined, kmsOperation: undefined });
  });

  it('never rejects an unknown kmsOperation and treats kmsRequestId as opaque', () => {
    const request = parseGetHealthStatusRequest({ requestMetadata: { kmsOperation: 'SomeFutureOperation', kmsRequestId: '' } });
    expect(request.requestMetadata).toMatchObject({ kmsOperation: 'SomeFutureOperation', kmsRequestId: '' });
    expect(parseGetKeyMetadataRequest(metadataBody({ requestMetadata: { awsPrincipalArn: 'AWS Internal', kmsOperation: 'BulkThing', kmsRequestId: 'not a uuid \u263a' } })).requestMetadata.kmsRequestId).toBe('not a uuid \u263a');
  });

  it('ignores fields it does not know (KMS may add requestMetadata fields)', () => {
    const request = parseEncryptRequest(encryptBody(Buffer.from('x'), { extra: { somethingNew: 1 } }));
    expect(request.plaintext.toString()).toBe('x');
    expect(parseGetHealthStatusRequest(healthBody({ requestMetadata: { kmsOperation: 'a', kmsRequestId: 'b', kmsRecipientAttestationPCR0: 'x' } })).requestMetadata.kmsOperation).toBe('a');
  });

  it('requires awsPrincipalArn for GetKeyMetadata but not kmsKeyArn', () => {
    expect(parseGetKeyMetadataRequest(metadataBody()).requestMetadata.kmsKeyArn).toBeUndefined();
    expect(validationMessage(() => parseGetKeyMetadataRequest({ requestMetadata: { kmsOperation: 'CreateKey', kmsRequestId: 'r' } }))).toMatch('awsPrincipalArn is required');
  });

  it('requires kmsKeyArn for Encrypt and Decrypt', () => {
    const body = encryptBody(Buffer.from('x'));
    const { kmsKeyArn: _omit, ...metadata } = body.requestMetadata as Record<string, unknown>;
    expect(validationMessage(() => parseEncryptRequest({ ...body, requestMetadata: metadata }))).toMatch('kmsKeyArn is required');
    expect(validationMessage(() => parseDecryptRequest({ ...decryptBody(sealed), requestMetadata: metadata }))).toMatch('kmsKeyArn is required');
  });

  it('accepts ARNs of 2,048 characters and answers longer ones with UnsupportedOperationException (past this proxy limit)', () => {
    const arn = `arn:aws:iam::123456789012:role/${'r'.repeat(2048 - 31)}`;
    expect(arn).toHaveLength(2048);
    const body = encryptBody(Buffer.from('x'));
    const ok = parseEncryptRequest({ ...body, requestMetadata: { ...(body.requestMetadata as object), awsPrincipalArn: arn, kmsKeyArn: arn } });
    expect(ok.requestMetadata.awsPrincipalArn).toBe(arn);
    expect(unsupportedMessage(() => parseEncryptRequest({ ...body, requestMetadata: { ...(body.requestMetadata as object), kmsKeyArn: `${arn}x` } }))).toMatch('exceeds 2048');
  });

  it('rejects metadata fields of the wrong type, and treats null optionals as absent', () => {
    expect(validationMessage(() => parseGetKeyMetadataRequest(metadataBody({ requestMetadata: { awsPrincipalArn: 'p', kmsOperation: 1, kmsRequestId: 'r' } })))).toMatch('kmsOperation must be a string');
    const request = parseEncryptRequest(encryptBody(Buffer.from('x'), { extra: { additionalAuthenticatedData: null } }));
    expect(request.additionalAuthenticatedData).toBeUndefined();
  });
});

describe('parseEncryptRequest', () => {
  it('accepts 4,300 bytes of plaintext and 8,192 bytes of AAD', () => {
    const request = parseEncryptRequest(encryptBody(Buffer.alloc(4300, 1), { aad: Buffer.alloc(8192, 2), cdiv: true }));
    expect(request.plaintext).toHaveLength(4300);
    expect(request.additionalAuthenticatedData).toHaveLength(8192);
    expect(request.ciphertextDataIntegrityValueAlgorithm).toBe('SHA_256');
  });

  it.each([
    ['plaintext missing', { plaintext: undefined }, 'plaintext is required'],
    ['empty plaintext', { plaintext: '' }, 'plaintext must hold at least 1 byte'],
    ['URL-safe Base64', { plaintext: '-_-_' }, 'standard Base64'],
    ['unpadded Base64', { plaintext: 'QQ' }, 'standard Base64'],
    ['Base64 with whitespace', { plaintext: 'QUJD\nREVG' }, 'standard Base64'],
    ['non-canonical Base64', { plaintext: 'QR==' }, 'canonical'],
    ['plaintext as a number', { plaintext: 5 }, 'plaintext must be a string'],
    ['another algorithm', { encryptionAlgorithm: 'AES_CBC' }, 'encryptionAlgorithm must be AES_GCM'],
    ['no algorithm', { encryptionAlgorithm: undefined }, 'encryptionAlgorithm is required'],
    ['another CDIV algorithm', { ciphertextDataIntegrityValueAlgorithm: 'SHA_512' }, 'SHA_256'],
    ['AAD not Base64', { additionalAuthenticatedData: '***' }, 'additionalAuthenticatedData must be standard Base64'],
  ])('rejects %s', (_label, change, message) => {
    const body: Record<string, unknown> = { ...encryptBody(Buffer.from('hello')), ...change };
    for (const [field, value] of Object.entries(change)) if (value === undefined) delete body[field];
    expect(validationMessage(() => parseEncryptRequest(body))).toMatch(message);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['plaintext over 8 KiB', { plaintext: Buffer.alloc(8193).toString('base64') }, 'plaintext exceeds'],
    ['AAD over 16 KiB', { additionalAuthenticatedData: Buffer.alloc(16385).toString('base64') }, 'additionalAuthenticatedData exceeds'],
  ])('answers %s (above the spec minimum, past this proxy limit) with UnsupportedOperationException', (_label, change, message) => {
    expect(unsupportedMessage(() => parseEncryptRequest({ ...encryptBody(Buffer.from('hello')), ...change }))).toMatch(message);
  });
});

describe('parseDecryptRequest', () => {
  it('accepts 12- and 16-byte IVs', () => {
    expect(parseDecryptRequest(decryptBody(sealed)).initializationVector).toHaveLength(12);
    expect(parseDecryptRequest(decryptBody({ ...sealed, initializationVector: Buffer.alloc(16).toString('base64') })).initializationVector).toHaveLength(16);
  });

  it('accepts 20 bytes of ciphertextMetadata and no metadata at all', () => {
    expect(parseDecryptRequest(decryptBody({ ...sealed, ciphertextMetadata: Buffer.alloc(20).toString('base64') })).ciphertextMetadata).toHaveLength(20);
    expect(parseDecryptRequest(decryptBody({ ...sealed, ciphertextMetadata: undefined })).ciphertextMetadata).toBeUndefined();
  });

  it.each([
    ['a 13-byte IV', { initializationVector: Buffer.alloc(13).toString('base64') }, '12 or 16 bytes'],
    ['an 11-byte IV', { initializationVector: Buffer.alloc(11).toString('base64') }, 'initializationVector'],
    ['a 15-byte tag', { authenticationTag: Buffer.alloc(15).toString('base64') }, 'authenticationTag'],
    ['a 17-byte tag', { authenticationTag: Buffer.alloc(17).toString('base64') }, 'authenticationTag exceeds 16'],
    ['21 bytes of metadata', { ciphertextMetadata: Buffer.alloc(21).toString('base64') }, 'ciphertextMetadata exceeds 20'],
    ['no ciphertext', { ciphertext: undefined }, 'ciphertext is required'],
    ['no IV', { initializationVector: undefined }, 'initializationVector is required'],
    ['no tag', { authenticationTag: undefined }, 'authenticationTag is required'],
  ])('rejects %s', (_label, change, message) => {
    const body: Record<string, unknown> = { ...decryptBody(sealed), ...change };
    for (const [field, value] of Object.entries(change)) if (value === undefined) delete body[field];
    expect(validationMessage(() => parseDecryptRequest(body))).toMatch(message);
  });
});

describe('decodeBase64', () => {
  it('decodes standard Base64 with + and /', () => {
    expect(decodeBase64('+/+/', 'f')).toEqual(Buffer.from([0xfb, 0xff, 0xbf]));
  });

  it('accepts exactly the values that are their own canonical re-encoding: padding, trailing bits, URL-safe and stray characters', () => {
    const canonical = (value: string) => Buffer.from(value, 'base64').toString('base64') === value;
    const accepted = (value: string) => {
      try {
        return decodeBase64(value, 'f').equals(Buffer.from(value, 'base64'));
      } catch {
        return false;
      }
    };
    const values = ['', 'AA==', 'AB==', 'AAA=', 'AAB=', 'AAAA', 'A===', '====', 'QQ==QQ==', 'QQ=A', 'QUJD', 'QUJD\n', ' QUJD', 'QU JD', '-_-_', 'AA=', 'AAAAA===', 'QUJ*'];
    for (let length = 0; length <= 40; length += 1) values.push(randomBytes(length).toString('base64'));
    // Short strings over the alphabet, '=', the URL-safe pair and stray characters (a fixed seed, so a failure repeats).
    const characters = 'AQgwBh9z+/-_= \n*';
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 20_000; i += 1) {
      let value = '';
      for (let n = next() % 13; n > 0; n -= 1) value += characters[next() % characters.length];
      values.push(value);
    }
    const disagreements = values.filter((value) => accepted(value) !== canonical(value));
    expect(disagreements).toEqual([]);
    expect(values.filter(canonical).length).toBeGreaterThan(100);
  });
});
