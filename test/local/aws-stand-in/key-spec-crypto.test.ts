/**
 * Asymmetric and HMAC cryptography of the local KMS, checked against node:crypto and openssl's
 * conventions independently of the module's own code paths: signatures made over a DIGEST verify
 * as signatures over the RAW message, public keys match the private key, HMACs match a plain
 * createHmac, and imported material of the wrong size or curve is refused as KMS refuses it.
 */
import { createHash, createHmac, createPublicKey, generateKeyPairSync, randomBytes, verify as nodeVerify, constants } from 'node:crypto';
import {
  checkImportedMaterial,
  generateKeyMaterial,
  generateMac,
  publicKeyOf,
  rsaDecrypt,
  rsaEncrypt,
  sign,
  verify,
  verifyMac,
} from '../../../lambdas/local/aws-stand-in/kms/key-spec-crypto';
import { thrownType } from './thrown-aws-error';

const message = Buffer.from('the message to sign');

describe('signing keys', () => {
  const rsa = generateKeyMaterial('RSA_2048');

  it.each(['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'])(
    'RSA %s: a RAW signature verifies with the public key alone, and a DIGEST signature is the same scheme',
    (algorithm) => {
      // Arrange
      const hash = `sha${algorithm.slice(-3)}`;
      const publicKey = createPublicKey({ key: publicKeyOf('RSA_2048', rsa), format: 'der', type: 'spki' });
      const padding = algorithm.includes('PSS') ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(hash).digest().length } : { padding: constants.RSA_PKCS1_PADDING };
      // Act
      const raw = sign({ spec: 'RSA_2048', material: rsa, signingAlgorithm: algorithm, message });
      const overDigest = sign({ spec: 'RSA_2048', material: rsa, signingAlgorithm: algorithm, message: createHash(hash).update(message).digest(), messageType: 'DIGEST' });
      // Assert
      expect(nodeVerify(hash, message, { key: publicKey, ...padding }, raw)).toBe(true);
      expect(nodeVerify(hash, message, { key: publicKey, ...padding }, overDigest)).toBe(true);
      expect(verify({ spec: 'RSA_2048', material: rsa, signingAlgorithm: algorithm, message: createHash(hash).update(message).digest(), messageType: 'DIGEST', signature: raw })).toBe(true);
      expect(verify({ spec: 'RSA_2048', material: rsa, signingAlgorithm: algorithm, message: Buffer.from('another message'), signature: raw })).toBe(false);
    },
  );

  it.each([
    ['ECC_NIST_P256', 'ECDSA_SHA_256', 'prime256v1'],
    ['ECC_NIST_P384', 'ECDSA_SHA_384', 'secp384r1'],
    ['ECC_NIST_P521', 'ECDSA_SHA_512', 'secp521r1'],
    ['ECC_SECG_P256K1', 'ECDSA_SHA_256', 'secp256k1'],
  ])('%s signs with %s only, as DER ECDSA over its curve, over the RAW message or its DIGEST', (spec, algorithm, curve) => {
    // Arrange
    const material = generateKeyMaterial(spec);
    const publicKey = createPublicKey({ key: publicKeyOf(spec, material), format: 'der', type: 'spki' });
    // Act
    const signature = sign({ spec, material, signingAlgorithm: algorithm, message });
    // Assert
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe(curve);
    expect(nodeVerify(`sha${algorithm.slice(-3)}`, message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
    // Over a DIGEST: the same ECDSA as over the RAW message, both ways.
    const digest = createHash(`sha${algorithm.slice(-3)}`).update(message).digest();
    const overDigest = sign({ spec, material, signingAlgorithm: algorithm, message: digest, messageType: 'DIGEST' });
    expect(nodeVerify(`sha${algorithm.slice(-3)}`, message, { key: publicKey, dsaEncoding: 'der' }, overDigest)).toBe(true);
    expect(verify({ spec, material, signingAlgorithm: algorithm, message: digest, messageType: 'DIGEST', signature })).toBe(true);
    expect(verify({ spec, material, signingAlgorithm: algorithm, message: createHash(`sha${algorithm.slice(-3)}`).update('other').digest(), messageType: 'DIGEST', signature })).toBe(false);
    expect(verify({ spec, material, signingAlgorithm: algorithm, message: digest, messageType: 'DIGEST', signature: Buffer.from('not der') })).toBe(false);
    expect(thrownType(() => sign({ spec, material, signingAlgorithm: 'RSASSA_PSS_SHA_256', message }))).toBe('InvalidKeyUsageException');
  });

  it('refuses a RAW message over 4096 bytes and a DIGEST of the wrong length with ValidationException', () => {
    expect(thrownType(() => sign({ spec: 'RSA_2048', material: rsa, signingAlgorithm: 'RSASSA_PSS_SHA_256', message: Buffer.alloc(4097) }))).toBe('ValidationException');
    expect(thrownType(() => sign({ spec: 'RSA_2048', material: rsa, signingAlgorithm: 'RSASSA_PSS_SHA_256', message: Buffer.alloc(20), messageType: 'DIGEST' }))).toBe('ValidationException');
  });

  it('RSA encryption keys: OAEP round trip, and a ciphertext of another key is InvalidCiphertextException', () => {
    const ciphertext = rsaEncrypt('RSA_2048', rsa, 'RSAES_OAEP_SHA_256', Buffer.from('secret'));
    expect(rsaDecrypt('RSA_2048', rsa, 'RSAES_OAEP_SHA_256', ciphertext).toString()).toBe('secret');
    expect(thrownType(() => rsaDecrypt('RSA_2048', generateKeyMaterial('RSA_2048'), 'RSAES_OAEP_SHA_256', ciphertext))).toBe('InvalidCiphertextException');
    expect(thrownType(() => rsaEncrypt('RSA_2048', rsa, 'RSAES_OAEP_SHA_256', Buffer.alloc(191)))).toBe('ValidationException');
  });
});

describe('HMAC keys', () => {
  it.each([
    ['HMAC_224', 'HMAC_SHA_224', 'sha224'],
    ['HMAC_256', 'HMAC_SHA_256', 'sha256'],
    ['HMAC_384', 'HMAC_SHA_384', 'sha384'],
    ['HMAC_512', 'HMAC_SHA_512', 'sha512'],
  ])('%s: GenerateMac equals createHmac(%s); VerifyMac accepts it and rejects a changed MAC', (spec, algorithm, hash) => {
    const material = generateKeyMaterial(spec);
    const mac = generateMac(spec, material, algorithm, message);
    expect(mac).toEqual(createHmac(hash, material).update(message).digest());
    expect(verifyMac(spec, material, algorithm, message, mac)).toBe(true);
    mac[0] ^= 1;
    expect(verifyMac(spec, material, algorithm, message, mac)).toBe(false);
    expect(thrownType(() => generateMac(spec, material, spec === 'HMAC_256' ? 'HMAC_SHA_512' : 'HMAC_SHA_256', message))).toBe('InvalidKeyUsageException');
  });
});

describe('imported material checks', () => {
  it('accepts material that fits the spec', () => {
    expect(() => checkImportedMaterial('SYMMETRIC_DEFAULT', randomBytes(32))).not.toThrow();
    expect(() => checkImportedMaterial('HMAC_256', randomBytes(64))).not.toThrow();
    const ec = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(() => checkImportedMaterial('ECC_SECG_P256K1', ec)).not.toThrow();
  });

  it.each([
    ['SYMMETRIC_DEFAULT', randomBytes(16)],
    ['HMAC_384', randomBytes(32)],
    ['HMAC_224', randomBytes(65)],
    ['RSA_3072', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'der', type: 'pkcs8' })],
    ['ECC_NIST_P384', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'der', type: 'pkcs8' })],
    ['ECC_NIST_P256', randomBytes(100)],
  ])('refuses %s material of the wrong size, curve or format with IncorrectKeyMaterialException', (spec, material) => {
    expect(thrownType(() => checkImportedMaterial(spec, material))).toBe('IncorrectKeyMaterialException');
  });
});
