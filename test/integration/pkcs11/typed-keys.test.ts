/**
 * Source keys of every type against a real SoftHSM2 token through the HSM agent: RSA and EC key
 * pairs, generic secrets for HMAC, their attributes and public keys read back; wrapping for import
 * inside the HSM with every wrapping algorithm SoftHSM2 can do, unwrapped again here with the
 * wrapping private key (as AWS KMS does) and compared with what the HSM reports or computes.
 */
import { createDecipheriv, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, constants, privateDecrypt, type KeyObject } from 'node:crypto';
import type { GenerateKeyRequest, HsmKeyRef } from '../../../lambdas/contract/hsm';
import type { EcCurve, HsmKeyType, ImportWrappingAlgorithm } from '../../../lambdas/contract/hsm-key-types';
import { createTestToken, type TestToken } from '../../helpers/softhsm';
import { agentFor, attributes, hsmErrorOf, keyRequest } from './fixtures';
import type { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';

let token: TestToken;
let agent: Pkcs11HsmAgent;
/** Stands in for AWS KMS's wrapping key pair (GetParametersForImport, RSA_4096). */
const wrapping = generateKeyPairSync('rsa', { modulusLength: 4096 });
const wrappingPublicKey = wrapping.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

/** Extractable only wrapped, as a key meant for upload is. */
const UPLOADABLE = ['CKA_SENSITIVE', 'CKA_EXTRACTABLE', 'CKA_TOKEN', 'CKA_PRIVATE'] as const;

beforeAll(async () => {
  token = await createTestToken({ prefix: 'typed' });
  agent = agentFor(token);
});

function typedRequest(keyType: HsmKeyType, sizeBits: number, listed: Parameters<typeof attributes>, curve?: EcCurve): GenerateKeyRequest {
  return { ...keyRequest(attributes(...listed), `${keyType}-${sizeBits}`), keyType, sizeBits, ...(curve === undefined ? {} : { curve }) };
}

async function generate(request: GenerateKeyRequest): Promise<HsmKeyRef> {
  await agent.generateKey(token.partition, request);
  return { partition: token.partition, objectId: request.objectId };
}

/** What AWS KMS does with EncryptedKeyMaterial: the key material in the clear. */
function unwrap(material: string, algorithm: ImportWrappingAlgorithm): Buffer {
  const bytes = Buffer.from(material, 'base64');
  const oaepHash = algorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';
  const decrypt = (block: Buffer): Buffer => privateDecrypt({ key: wrapping.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, block);
  if (algorithm.startsWith('RSAES_OAEP')) return decrypt(bytes);
  const ephemeral = decrypt(bytes.subarray(0, 512));
  const decipher = createDecipheriv('id-aes256-wrap-pad', ephemeral, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([decipher.update(bytes.subarray(512)), decipher.final()]);
}

describe('generateKey of every type', () => {
  it.each([2048, 3072, 4096])('RSA %i: a key pair with its modulus size, attributes and public key read back', async (sizeBits) => {
    // Arrange
    const request = typedRequest('RSA', sizeBits, ['CKA_SIGN', 'CKA_VERIFY', ...UPLOADABLE]);
    // Act
    const info = await agent.generateKey(token.partition, request);
    // Assert
    expect(info).toMatchObject({ objectId: request.objectId, keyType: 'RSA', sizeBits });
    expect(info.attributes).toMatchObject({ CKA_SIGN: true, CKA_VERIFY: true, CKA_SENSITIVE: true, CKA_EXTRACTABLE: true, CKA_TOKEN: true, CKA_DECRYPT: false, CKA_ENCRYPT: false });
    const publicKey = createPublicKey(info.publicKeyPem as string);
    expect(publicKey.asymmetricKeyType).toBe('rsa');
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(sizeBits);
    await expect(agent.describeKey({ partition: token.partition, objectId: request.objectId })).resolves.toEqual(info);
  });

  it.each([
    ['P-256', 256, 'prime256v1'],
    ['P-384', 384, 'secp384r1'],
    ['P-521', 521, 'secp521r1'],
    ['secp256k1', 256, 'secp256k1'],
  ] as const)('EC %s: a key pair on the curve, its public key as PEM', async (curve, sizeBits, namedCurve) => {
    const request = typedRequest('EC', sizeBits, ['CKA_SIGN', 'CKA_VERIFY', ...UPLOADABLE], curve);

    const info = await agent.generateKey(token.partition, request);

    expect(info).toMatchObject({ keyType: 'EC', sizeBits, curve });
    expect(createPublicKey(info.publicKeyPem as string).asymmetricKeyDetails?.namedCurve).toBe(namedCurve);
  });

  it.each([224, 256, 384, 512])('generic secret %i: a secret key of that many bits for HMAC', async (sizeBits) => {
    const request = typedRequest('GENERIC_SECRET', sizeBits, ['CKA_SIGN', 'CKA_VERIFY', ...UPLOADABLE]);

    const info = await agent.generateKey(token.partition, request);

    expect(info).toMatchObject({ keyType: 'GENERIC_SECRET', sizeBits, attributes: expect.objectContaining({ CKA_SIGN: true, CKA_SENSITIVE: true }) });
    expect(info.publicKeyPem).toBeUndefined();
  });

  it('destroyKey removes both halves of a key pair', async () => {
    const key = await generate(typedRequest('EC', 256, ['CKA_SIGN', ...UPLOADABLE], 'P-256'));

    await agent.destroyKey(key);

    await expect(agent.describeKey(key)).resolves.toBeUndefined();
  });
});

describe('wrapKeyForImport: wrapped inside the HSM, unwrapped only with the wrapping private key', () => {
  it.each(['RSAES_OAEP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_1'] as const)('an HMAC-256 key with %s: the unwrapped material computes the HSM\'s own HMAC', async (algorithm) => {
    // Arrange
    const key = await generate(typedRequest('GENERIC_SECRET', 256, ['CKA_SIGN', ...UPLOADABLE]));
    const message = Buffer.from('message for the HMAC');
    // Act
    const wrapped = await agent.wrapKeyForImport(key, { wrappingPublicKey, algorithm });
    const { mac } = await agent.signHmac(key, { message: message.toString('base64'), algorithm: 'HMAC_SHA_256' });
    // Assert
    const material = unwrap(wrapped.encryptedKeyMaterial, algorithm);
    expect(material).toHaveLength(32);
    expect(createHmac('sha256', material).update(message).digest()).toEqual(Buffer.from(mac, 'base64'));
  });

  it.each([
    ['RSA 2048', 'RSA', 2048, undefined],
    ['RSA 4096', 'RSA', 4096, undefined],
    ['EC P-256', 'EC', 256, 'P-256'],
    ['EC secp256k1', 'EC', 256, 'secp256k1'],
    ['EC P-521', 'EC', 521, 'P-521'],
  ] as const)('the %s private key with RSA_AES_KEY_WRAP_SHA_1 is its PKCS#8 form, matching the HSM\'s public key', async (_name, keyType, sizeBits, curve) => {
    const request = typedRequest(keyType, sizeBits, ['CKA_SIGN', 'CKA_VERIFY', ...UPLOADABLE], curve);
    const info = await agent.generateKey(token.partition, request);

    const wrapped = await agent.wrapKeyForImport({ partition: token.partition, objectId: request.objectId }, { wrappingPublicKey, algorithm: 'RSA_AES_KEY_WRAP_SHA_1' });

    const privateKey: KeyObject = createPrivateKey({ key: unwrap(wrapped.encryptedKeyMaterial, 'RSA_AES_KEY_WRAP_SHA_1'), format: 'der', type: 'pkcs8' });
    expect(createPublicKey(privateKey).export({ format: 'pem', type: 'spki' })).toBe(info.publicKeyPem);
  });

  it('an AES-256 key with RSA_AES_KEY_WRAP_SHA_1: 32 bytes of material', async () => {
    const key = await generate(typedRequest('AES', 256, ['CKA_ENCRYPT', 'CKA_DECRYPT', ...UPLOADABLE]));

    const wrapped = await agent.wrapKeyForImport(key, { wrappingPublicKey, algorithm: 'RSA_AES_KEY_WRAP_SHA_1' });

    expect(unwrap(wrapped.encryptedKeyMaterial, 'RSA_AES_KEY_WRAP_SHA_1')).toHaveLength(32);
  });

  it('SoftHSM2 refuses RSA-OAEP with SHA-256 for wrapping (why its partitions use the *_SHA_1 algorithms)', async () => {
    const key = await generate(typedRequest('AES', 256, [...UPLOADABLE]));

    const error = await hsmErrorOf(agent.wrapKeyForImport(key, { wrappingPublicKey, algorithm: 'RSAES_OAEP_SHA_256' }));

    expect(error.returnCode).toMatch(/^CKR_/);
  });

  it('a key that is not extractable is never wrapped', async () => {
    const key = await generate(typedRequest('AES', 256, ['CKA_SENSITIVE', 'CKA_TOKEN']));

    const error = await hsmErrorOf(agent.wrapKeyForImport(key, { wrappingPublicKey, algorithm: 'RSA_AES_KEY_WRAP_SHA_1' }));

    expect(error.returnCode).toBe('CKR_KEY_UNEXTRACTABLE');
  });

  it('a private key is refused with RSAES_OAEP_* (too large for one RSA block)', async () => {
    const key = await generate(typedRequest('EC', 256, ['CKA_SIGN', ...UPLOADABLE], 'P-256'));

    const error = await hsmErrorOf(agent.wrapKeyForImport(key, { wrappingPublicKey, algorithm: 'RSAES_OAEP_SHA_1' }));

    expect(error.reason).toBe('KEY_FUNCTION_NOT_PERMITTED');
  });
});
