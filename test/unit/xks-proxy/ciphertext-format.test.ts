import {
  ciphertextDataIntegrityValue,
  decodeCiphertextMetadata,
  encodeCiphertextMetadata,
  hsmAad,
} from '../../../lambdas/xks-proxy/operations/ciphertext-format';
import { XksError } from '../../../lambdas/xks-proxy/errors';

describe('ciphertextDataIntegrityValue', () => {
  it('reproduces the spec Appendix C example', () => {
    // Arrange: the fields of the Encrypt response example and the request's AAD.
    const input = {
      additionalAuthenticatedData: Buffer.from('cHJvamVjdD1uaWxlLGRlcGFydG1lbnQ9bWFya2V0aW5n', 'base64'),
      ciphertextMetadata: Buffer.from('a2V5X3ZlcnNpb249MQ==', 'base64'),
      initializationVector: Buffer.from('HMrlRw85cAJUd5Ax', 'base64'),
      ciphertext: Buffer.from('ghxkK1txeDNn3q8Y', 'base64'),
      authenticationTag: Buffer.from('vBxN2ncH1oEkR8WVXpmyYQ==', 'base64'),
    };
    // Act
    const cdiv = ciphertextDataIntegrityValue(input);
    // Assert: the spec's value, and its hex form.
    expect(cdiv).toBe('qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=');
    expect(Buffer.from(cdiv, 'base64').toString('hex')).toBe('a8703f2260bd8791ec2d15ea0b23e65a0631eedcf2a13a65cc82db3f47cf5ec7');
    expect(input.additionalAuthenticatedData.toString()).toBe('project=nile,department=marketing');
  });

  it('treats absent AAD and metadata as empty strings', () => {
    const iv = Buffer.alloc(12, 1);
    const ciphertext = Buffer.from('abc');
    const tag = Buffer.alloc(16, 2);
    const withEmpty = ciphertextDataIntegrityValue({ additionalAuthenticatedData: Buffer.alloc(0), ciphertextMetadata: Buffer.alloc(0), initializationVector: iv, ciphertext, authenticationTag: tag });
    const withoutFields = ciphertextDataIntegrityValue({ initializationVector: iv, ciphertext, authenticationTag: tag });
    expect(withoutFields).toBe(withEmpty);
  });
});

describe('hsmAad', () => {
  it('is u16be(len AAD) ‖ AAD ‖ u8(len metadata) ‖ metadata', () => {
    const aad = Buffer.from('project=nile');
    const metadata = Buffer.from([1, 0, 0, 0, 7]);
    expect(hsmAad(aad, metadata).toString('hex')).toBe(`000c${aad.toString('hex')}05${metadata.toString('hex')}`);
  });

  it('uses length 0 for an absent AAD, so metadata passed as AAD cannot collide', () => {
    const metadata = Buffer.from([1, 0, 0, 0, 0]);
    const normal = hsmAad(undefined, metadata);
    const swapped = hsmAad(metadata, Buffer.alloc(0));
    expect(normal.toString('hex')).toBe('0000050100000000');
    expect(swapped.equals(normal)).toBe(false);
  });

  it('writes the AAD length big-endian for 8,192 bytes', () => {
    const out = hsmAad(Buffer.alloc(8192, 0xaa), Buffer.from([1]));
    expect(out.subarray(0, 2).toString('hex')).toBe('2000');
    expect(out.length).toBe(2 + 8192 + 1 + 1);
  });
});

describe('ciphertext metadata', () => {
  it('round-trips the key version in 5 bytes (format 1)', () => {
    const encoded = encodeCiphertextMetadata(258);
    expect(encoded.toString('hex')).toBe('0100000102');
    expect(decodeCiphertextMetadata(encoded)).toEqual({ format: 1, keyVersion: 258 });
  });

  it.each([
    ['missing', undefined],
    ['empty', Buffer.alloc(0)],
    ['an unknown format', Buffer.from([2, 0, 0, 0, 0])],
    ['a wrong length', Buffer.from([1, 0, 0, 0])],
    ['the spec example (not ours)', Buffer.from('key_version=1')],
  ])('rejects %s metadata with InvalidCiphertextException', (_label, metadata) => {
    expect(() => decodeCiphertextMetadata(metadata)).toThrow(expect.objectContaining({ errorName: 'InvalidCiphertextException' }) as XksError);
  });

  it('refuses versions that do not fit', () => {
    expect(() => encodeCiphertextMetadata(-1)).toThrow(RangeError);
    expect(() => encodeCiphertextMetadata(2 ** 32)).toThrow(RangeError);
  });
});
