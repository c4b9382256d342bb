/**
 * Pkcs11KeyCrypto (the XKS proxy's crypto) against a real SoftHSM2 token: AES-256-GCM with the
 * caller's AAD, failures mapped to HsmError reasons, and many calls in parallel.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11KeyCrypto } from '../../../lambdas/adapters/pkcs11/key-crypto';
import { Pkcs11Partitions } from '../../../lambdas/adapters/pkcs11/partitions';
import type { GcmCiphertext } from '../../../lambdas/core/ports/hsm';
import type { HsmKeyRef } from '../../../lambdas/contract/hsm';
import type { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import { createTestToken, type TestToken } from '../../helpers/softhsm';
import { agentFor, attributes, generatedKey, hsmErrorOf, keyRequest, SOURCE_KEY_ATTRIBUTES } from './fixtures';

// A generous budget: these tests are about results, not speed (the benchmark measures speed).
const config = pkcs11Config({ callTimeoutMs: 5_000 });
const AAD = Buffer.from('u16be(len) ‖ aad ‖ u8(len) ‖ metadata, as the proxy builds it');

let token: TestToken;
let crypto: Pkcs11KeyCrypto;
let agent: Pkcs11HsmAgent;

function newKey(keyAttributes = SOURCE_KEY_ATTRIBUTES): Promise<HsmKeyRef> {
  return generatedKey(token, agent, keyRequest(keyAttributes));
}

beforeAll(async () => {
  token = await createTestToken({ prefix: 'crypto' });
  agent = agentFor(token);
  crypto = new Pkcs11KeyCrypto(config, token.secretStore);
});

describe('encrypt and decrypt', () => {
  it.each([
    ['a 32-byte plaintext', 32],
    ['a 4,300-byte plaintext', 4_300],
    ['an empty plaintext', 0],
  ])('round-trips %s with the AAD, a 12-byte IV and a 16-byte tag', async (_case, size) => {
    const key = await newKey();
    const plaintext = randomBytes(size);

    const sealed = await crypto.encrypt(key, plaintext, AAD);
    const opened = await crypto.decrypt(key, sealed, AAD);

    expect(sealed.iv).toHaveLength(12);
    expect(sealed.tag).toHaveLength(16);
    expect(sealed.ciphertext).toHaveLength(size);
    expect(opened.equals(plaintext)).toBe(true);
  });

  it('uses a fresh IV for every encryption', async () => {
    const key = await newKey();

    const ivs = await Promise.all(Array.from({ length: 20 }, () => crypto.encrypt(key, Buffer.from('same'), AAD).then((s) => s.iv.toString('hex'))));

    expect(new Set(ivs).size).toBe(20);
  });

  it('is standard AES-256-GCM over exactly the AAD given (checked against Node crypto with an extractable key)', async () => {
    // Arrange: a key whose value may leave the HSM, read through the adapter's own session.
    const key = await newKey(attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_EXTRACTABLE'));
    const keyBytes = await new Pkcs11Partitions(config, token.secretStore).run(token.partition, async (lease) => {
      const handle = (await lease.key(key.objectId))?.handle;
      if (!handle) throw new Error('key not found');
      return lease.pkcs11.C_GetAttributeValue(lease.session, handle, [{ type: pkcs11js.CKA_VALUE }])[0].value as Buffer;
    });
    const plaintext = Buffer.from('interoperable plaintext');

    // Act + Assert: HSM → Node
    const sealed = await crypto.encrypt(key, plaintext, AAD);
    const decipher = createDecipheriv('aes-256-gcm', keyBytes, sealed.iv).setAAD(AAD).setAuthTag(sealed.tag);
    expect(Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()])).toEqual(plaintext);

    // Node → HSM
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keyBytes, iv).setAAD(AAD);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    await expect(crypto.decrypt(key, { iv, ciphertext, tag: cipher.getAuthTag() }, AAD)).resolves.toEqual(plaintext);
  });
});

describe('failures', () => {
  let key: HsmKeyRef;
  let sealed: GcmCiphertext;
  const flip = (bytes: Buffer): Buffer => Buffer.from(bytes.map((byte, index) => (index === 0 ? byte ^ 1 : byte)));

  beforeAll(async () => {
    key = await newKey();
    sealed = await crypto.encrypt(key, Buffer.from('secret data'), AAD);
  });

  it.each([
    ['a wrong tag', (): [GcmCiphertext, Buffer] => [{ ...sealed, tag: flip(sealed.tag) }, AAD]],
    ['a wrong AAD', (): [GcmCiphertext, Buffer] => [sealed, flip(AAD)]],
    ['a wrong IV', (): [GcmCiphertext, Buffer] => [{ ...sealed, iv: flip(sealed.iv) }, AAD]],
    ['a 16-byte IV', (): [GcmCiphertext, Buffer] => [{ ...sealed, iv: Buffer.concat([sealed.iv, Buffer.alloc(4)]) }, AAD]],
    ['a wrong ciphertext', (): [GcmCiphertext, Buffer] => [{ ...sealed, ciphertext: flip(sealed.ciphertext) }, AAD]],
    ['a missing AAD', (): [GcmCiphertext, Buffer] => [sealed, Buffer.alloc(0)]],
  ])('decrypt with %s fails with DECRYPT_FAILED and the session stays usable', async (_case, input) => {
    const [ciphertext, aad] = input();

    const error = await hsmErrorOf(crypto.decrypt(key, ciphertext, aad));

    expect(error.reason).toBe('DECRYPT_FAILED');
    await expect(crypto.decrypt(key, sealed, AAD)).resolves.toEqual(Buffer.from('secret data'));
  });

  it('encrypt with a key without CKA_ENCRYPT fails with KEY_FUNCTION_NOT_PERMITTED', async () => {
    const decryptOnly = await newKey(attributes('CKA_DECRYPT', 'CKA_SENSITIVE'));

    const error = await hsmErrorOf(crypto.encrypt(decryptOnly, Buffer.from('x'), AAD));

    expect(error).toMatchObject({ reason: 'KEY_FUNCTION_NOT_PERMITTED', returnCode: 'CKR_KEY_FUNCTION_NOT_PERMITTED' });
  });

  it('decrypt with a key without CKA_DECRYPT fails with KEY_FUNCTION_NOT_PERMITTED', async () => {
    const encryptOnly = await newKey(attributes('CKA_ENCRYPT', 'CKA_SENSITIVE'));
    const sealedByIt = await crypto.encrypt(encryptOnly, Buffer.from('x'), AAD);

    const error = await hsmErrorOf(crypto.decrypt(encryptOnly, sealedByIt, AAD));

    expect(error.reason).toBe('KEY_FUNCTION_NOT_PERMITTED');
  });

  it('a key that is not in the partition fails with KEY_NOT_FOUND', async () => {
    const error = await hsmErrorOf(crypto.encrypt({ partition: token.partition, objectId: 'feedface' }, Buffer.from('x'), AAD));

    expect(error.reason).toBe('KEY_NOT_FOUND');
  });

  it('a destroyed key fails with KEY_NOT_FOUND although its handle was cached', async () => {
    const doomed = await newKey();
    await crypto.encrypt(doomed, Buffer.from('x'), AAD);

    await agent.destroyKey(doomed);

    expect((await hsmErrorOf(crypto.encrypt(doomed, Buffer.from('x'), AAD))).reason).toBe('KEY_NOT_FOUND');
  });

  it('refuses to encrypt when the partition claims an HSM type that generates the IV (no zero IV ever)', async () => {
    const asCloudHsm: HsmKeyRef = { partition: { ...token.partition, hsmType: 'cloudhsm', partitionId: 'as-cloudhsm' }, objectId: key.objectId };
    const cloudHsmConfig = pkcs11Config({ callTimeoutMs: 5_000, libraries: { cloudhsm: config.libraries.softhsm } });

    const error = await hsmErrorOf(new Pkcs11KeyCrypto(cloudHsmConfig, token.secretStore).encrypt(asCloudHsm, Buffer.from('x'), AAD));

    expect(error.reason).toBe('DEVICE_ERROR');
  });

  it('follows the partition\'s gcm_iv_convention: a SoftHSM2 partition set to hsm-in-iv-buffer is refused (SoftHSM2 uses the zero IV given)', async () => {
    const zeroIvPartition: HsmKeyRef = { partition: { ...token.partition, gcmIvConvention: 'hsm-in-iv-buffer' }, objectId: key.objectId };
    const rngPartition: HsmKeyRef = { partition: { ...token.partition, gcmIvConvention: 'caller-hsm-rng' }, objectId: key.objectId };

    const error = await hsmErrorOf(crypto.encrypt(zeroIvPartition, Buffer.from('x'), AAD));
    const sealed = await crypto.encrypt(rngPartition, Buffer.from('x'), AAD);

    expect(error).toMatchObject({ reason: 'DEVICE_ERROR', message: expect.stringContaining('did not generate an IV') });
    expect(sealed.iv.equals(Buffer.alloc(12))).toBe(false);
  });
});

describe('describe', () => {
  it('reports the attributes the HSM holds, and none for a missing key', async () => {
    const key = await newKey(attributes('CKA_DECRYPT', 'CKA_UNWRAP', 'CKA_SENSITIVE'));

    await expect(crypto.describe(key)).resolves.toMatchObject({
      keyType: 'AES',
      sizeBits: 256,
      attributes: attributes('CKA_DECRYPT', 'CKA_UNWRAP', 'CKA_SENSITIVE', 'CKA_TOKEN'),
    });
    await expect(crypto.describe({ partition: token.partition, objectId: '00' })).resolves.toBeUndefined();
  });
});

describe('concurrency', () => {
  it('serves 200 encrypts and then 200 decrypts in parallel, all correct', async () => {
    const key = await newKey();
    const plaintexts = Array.from({ length: 200 }, (_, index) => Buffer.from(`plaintext number ${index}`));

    const sealed = await Promise.all(plaintexts.map((plaintext) => crypto.encrypt(key, plaintext, AAD)));
    const opened = await Promise.all(sealed.map((ciphertext) => crypto.decrypt(key, ciphertext, AAD)));

    expect(opened).toEqual(plaintexts);
  });

  it('serves parallel calls on two partitions of the same library', async () => {
    const other = await createTestToken({ prefix: 'crypto-b' });
    const keyB = await generatedKey(other);
    const otherCrypto = new Pkcs11KeyCrypto(config, other.secretStore);
    const keyA = await newKey();

    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, index) => {
        const [use, key] = index % 2 ? [crypto, keyA] : [otherCrypto, keyB];
        return (await use.decrypt(key, await use.encrypt(key, Buffer.from(`p${index}`), AAD), AAD)).toString();
      }),
    );

    expect(results).toEqual(Array.from({ length: 100 }, (_, index) => `p${index}`));
  });
});
