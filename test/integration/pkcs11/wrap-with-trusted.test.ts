/**
 * Why uploaded keys do not get CKA_WRAP_WITH_TRUSTED (README "BYOK upload"), as SoftHSM2 behaves:
 * a user session cannot mark AWS KMS's wrapping key CKA_TRUSTED, and a key with
 * CKA_WRAP_WITH_TRUSTED cannot be wrapped with a key that is not trusted.
 */
import { generateKeyPairSync } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { createTestToken, openUserSession, type TestToken } from '../../helpers/softhsm';

let token: TestToken;
let pkcs11: pkcs11js.PKCS11;
let session: pkcs11js.Handle;
const wrappingJwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });

beforeAll(async () => {
  token = await createTestToken({ prefix: 'trusted' });
  ({ pkcs11, session } = await openUserSession(token));
});

afterAll(() => {
  pkcs11?.C_CloseSession(session);
});

const wrappingKeyTemplate = (trusted: boolean): pkcs11js.Template => [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
  { type: pkcs11js.CKA_TOKEN, value: false },
  { type: pkcs11js.CKA_WRAP, value: true },
  ...(trusted ? [{ type: pkcs11js.CKA_TRUSTED, value: true }] : []),
  { type: pkcs11js.CKA_MODULUS, value: Buffer.from(wrappingJwk.n!, 'base64url') },
  { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from(wrappingJwk.e!, 'base64url') },
];

const OAEP_SHA1: pkcs11js.Mechanism = {
  mechanism: pkcs11js.CKM_RSA_PKCS_OAEP,
  parameter: { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: pkcs11js.CKM_SHA_1, mgf: pkcs11js.CKG_MGF1_SHA1, source: 1 } as pkcs11js.RsaOAEP,
};

function failureOf(call: () => unknown): string | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

it('a user session cannot create AWS KMS\'s wrapping key as CKA_TRUSTED (only the security officer may)', () => {
  expect(failureOf(() => pkcs11.C_CreateObject(session, wrappingKeyTemplate(true)))).toMatch(/^CKR_/);
});

it('a key with CKA_WRAP_WITH_TRUSTED is not wrapped with an untrusted wrapping key; without it, it is', () => {
  // Arrange
  const keyWith = (wrapWithTrusted: boolean) =>
    pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: true },
      { type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: wrapWithTrusted },
    ]);
  const wrappingKey = pkcs11.C_CreateObject(session, wrappingKeyTemplate(false));
  // Act
  const refused = failureOf(() => pkcs11.C_WrapKey(session, OAEP_SHA1, wrappingKey, keyWith(true), Buffer.alloc(512)));
  const wrapped = pkcs11.C_WrapKey(session, OAEP_SHA1, wrappingKey, keyWith(false), Buffer.alloc(512));
  // Assert
  expect(refused).toBe('CKR_KEY_NOT_WRAPPABLE');
  expect(wrapped).toHaveLength(256);
});
