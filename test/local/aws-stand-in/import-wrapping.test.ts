/**
 * ImportKeyMaterial's unwrap, fed by an independent wrap: RSA-OAEP with node's publicEncrypt, and
 * RSA_AES_KEY_WRAP composed as PKCS #11's CKM_RSA_AES_KEY_WRAP does (OAEP-encrypted ephemeral AES
 * key, then RFC 5649 key wrap with padding, whose test vector from the RFC is checked first).
 */
import { constants, createCipheriv, createDecipheriv, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { checkWrappingChoice, generateWrappingKeyPair, unwrapKeyMaterial } from '../../../lambdas/local/aws-stand-in/kms/import-wrapping';
import { thrownType } from './thrown-aws-error';

const KWP_IV = Buffer.from('a65959a6', 'hex');

function wrap(publicKeyDer: Buffer, algorithm: string, material: Buffer): Buffer {
  const oaepHash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  const publicKey = { key: createPublicKey({ key: publicKeyDer, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash };
  if (algorithm.startsWith('RSAES')) return publicEncrypt(publicKey, material);
  const aesKey = randomBytes(32);
  const cipher = createCipheriv('id-aes256-wrap-pad', aesKey, KWP_IV);
  return Buffer.concat([publicEncrypt(publicKey, aesKey), cipher.update(material), cipher.final()]);
}

describe('import wrapping', () => {
  it("node's id-aes192-wrap-pad is RFC 5649's key wrap with padding (the RFC's 20-octet test vector)", () => {
    const kek = Buffer.from('5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8', 'hex');
    const wrapped = Buffer.from('138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a', 'hex');
    const decipher = createDecipheriv('id-aes192-wrap-pad', kek, KWP_IV);
    expect(Buffer.concat([decipher.update(wrapped), decipher.final()]).toString('hex')).toBe('c37b7e6492584340bed12207808941155068f738');
  });

  it.each([
    ['RSAES_OAEP_SHA_1', 'RSA_2048'],
    ['RSAES_OAEP_SHA_256', 'RSA_3072'],
    ['RSA_AES_KEY_WRAP_SHA_1', 'RSA_2048'],
    ['RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096'],
  ] as const)('%s with an %s wrapping key unwraps what was wrapped with its public key', async (algorithm, spec) => {
    const pair = await generateWrappingKeyPair(spec);
    const material = randomBytes(algorithm.startsWith('RSA_AES') ? 1217 : 32);
    expect(unwrapKeyMaterial(algorithm, pair.privateKeyDer, wrap(pair.publicKeyDer, algorithm, material))).toEqual(material);
  });

  it('answers InvalidCiphertextException for material wrapped under another public key or algorithm', async () => {
    const pair = await generateWrappingKeyPair('RSA_2048');
    const other = await generateWrappingKeyPair('RSA_2048');
    const material = randomBytes(32);
    expect(thrownType(() => unwrapKeyMaterial('RSAES_OAEP_SHA_256', pair.privateKeyDer, wrap(other.publicKeyDer, 'RSAES_OAEP_SHA_256', material)))).toBe('InvalidCiphertextException');
    expect(thrownType(() => unwrapKeyMaterial('RSAES_OAEP_SHA_256', pair.privateKeyDer, wrap(pair.publicKeyDer, 'RSAES_OAEP_SHA_1', material)))).toBe('InvalidCiphertextException');
    expect(thrownType(() => unwrapKeyMaterial('RSA_AES_KEY_WRAP_SHA_256', pair.privateKeyDer, wrap(pair.publicKeyDer, 'RSAES_OAEP_SHA_256', material)))).toBe('InvalidCiphertextException');
  });

  it('refuses the wrapping choices KMS refuses', () => {
    expect(thrownType(() => checkWrappingChoice('RSA_2048', 'RSAES_OAEP_SHA_256', 'RSA_4096'))).toBe('UnsupportedOperationException');
    expect(thrownType(() => checkWrappingChoice('ECC_NIST_P521', 'RSAES_OAEP_SHA_1', 'RSA_2048'))).toBe('UnsupportedOperationException');
    expect(thrownType(() => checkWrappingChoice('SYMMETRIC_DEFAULT', 'RSAES_PKCS1_V1_5', 'RSA_2048'))).toBe('UnsupportedOperationException');
    expect(thrownType(() => checkWrappingChoice('SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_256', 'RSA_1024'))).toBe('ValidationException');
    expect(thrownType(() => checkWrappingChoice('SYMMETRIC_DEFAULT', 'AES_WRAP', 'RSA_2048'))).toBe('ValidationException');
    expect(checkWrappingChoice('ECC_NIST_P521', 'RSAES_OAEP_SHA_256', 'RSA_3072')).toEqual({ algorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' });
    expect(checkWrappingChoice('RSA_4096', 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_2048')).toEqual({ algorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_2048' });
  });
});
