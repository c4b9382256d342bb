/**
 * Key material wrapped inside an HSM, as a BYOK upload does it (SoftHSM2 through pkcs11js): the
 * local KMS's wrapping public key imported into the token as a session object; for
 * RSA_AES_KEY_WRAP_SHA_1 an ephemeral AES key generated in the token wraps the target with
 * CKM_AES_KEY_WRAP_PAD and is itself wrapped with CKM_RSA_PKCS_OAEP (SHA-1: SoftHSM2 2.6 wraps
 * with OAEP over SHA-1 only). What the local KMS
 * then computes with the imported material is compared with what the HSM computes with its key.
 */
import { createPublicKey } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { CreateKeyCommand, GenerateMacCommand, GetParametersForImportCommand, GetPublicKeyCommand, ImportKeyMaterialCommand, type AlgorithmSpec } from '@aws-sdk/client-kms';
import { createTestToken, openUserSession, type TestToken } from '../../helpers/softhsm';
import { standInFixture, type StandInFixture } from './stand-in-fixture';

let aws: StandInFixture;
let token: TestToken;
let pkcs11: pkcs11js.PKCS11;
let session: pkcs11js.Handle;

beforeAll(async () => {
  aws = await standInFixture();
  token = await createTestToken({ prefix: 'kms-import' });
  ({ pkcs11, session } = await openUserSession(token));
});

afterAll(async () => {
  pkcs11?.C_CloseSession(session);
  await aws?.stop();
});

/** The KMS wrapping key as a session public-key object that may wrap. */
function importWrappingKey(publicKeyDer: Uint8Array): pkcs11js.Handle {
  const jwk = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  return pkcs11.C_CreateObject(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_MODULUS, value: Buffer.from(jwk.n!, 'base64url') },
    { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from(jwk.e!, 'base64url') },
  ]);
}

/** SoftHSM2 2.6 wraps with RSA-OAEP over SHA-1 only (CKR_ARGUMENTS_BAD for SHA-256): the *_SHA_1 algorithms. */
const OAEP_SHA1: pkcs11js.Mechanism = {
  mechanism: pkcs11js.CKM_RSA_PKCS_OAEP,
  parameter: { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: pkcs11js.CKM_SHA_1, mgf: pkcs11js.CKG_MGF1_SHA1, source: 1 } as pkcs11js.RsaOAEP,
};

/** CKM_RSA_AES_KEY_WRAP composed in the HSM (SoftHSM2 has no CKM_RSA_AES_KEY_WRAP). */
function wrapInHsm(wrappingKey: pkcs11js.Handle, target: pkcs11js.Handle, algorithm: AlgorithmSpec): Buffer {
  if (algorithm === 'RSAES_OAEP_SHA_1') return pkcs11.C_WrapKey(session, OAEP_SHA1, wrappingKey, target, Buffer.alloc(1024));
  const ephemeral = pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  ]);
  const wrappedTarget = pkcs11.C_WrapKey(session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, ephemeral, target, Buffer.alloc(8192));
  const wrappedEphemeral = pkcs11.C_WrapKey(session, OAEP_SHA1, wrappingKey, ephemeral, Buffer.alloc(1024));
  pkcs11.C_DestroyObject(session, ephemeral);
  return Buffer.concat([wrappedEphemeral, wrappedTarget]);
}

async function importFromHsm(keyId: string, target: pkcs11js.Handle, algorithm: AlgorithmSpec): Promise<void> {
  const parameters = await aws.kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' }));
  const wrappingKey = importWrappingKey(parameters.PublicKey!);
  await aws.kms.send(
    new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: parameters.ImportToken, EncryptedKeyMaterial: wrapInHsm(wrappingKey, target, algorithm), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
  );
}

it.each(['RSAES_OAEP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_1'] as const)('an HMAC-256 key wrapped in the HSM with %s: KMS GenerateMac equals the HSM\'s own HMAC', async (algorithm) => {
  // Arrange
  const hmacKey = pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  ]);
  const { KeyMetadata } = await aws.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
  const message = Buffer.from('message for the HMAC');
  // Act
  await importFromHsm(KeyMetadata!.KeyId!, hmacKey, algorithm);
  const { Mac } = await aws.kms.send(new GenerateMacCommand({ KeyId: KeyMetadata!.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
  pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_HMAC }, hmacKey);
  const hsmMac = pkcs11.C_Sign(session, message, Buffer.alloc(64));
  // Assert
  expect(Buffer.from(Mac!)).toEqual(hsmMac);
});

it('an RSA 2048 private key wrapped in the HSM with RSA_AES_KEY_WRAP_SHA_1: GetPublicKey has the HSM key pair\'s modulus', async () => {
  // Arrange
  const { publicKey, privateKey } = pkcs11.C_GenerateKeyPair(
    session,
    { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
    [
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
      { type: pkcs11js.CKA_VERIFY, value: true },
    ],
    [
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    ],
  );
  const { KeyMetadata } = await aws.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
  // Act
  await importFromHsm(KeyMetadata!.KeyId!, privateKey, 'RSA_AES_KEY_WRAP_SHA_1');
  const published = await aws.kms.send(new GetPublicKeyCommand({ KeyId: KeyMetadata!.KeyId }));
  // Assert
  const [{ value: modulus }] = pkcs11.C_GetAttributeValue(session, publicKey, [{ type: pkcs11js.CKA_MODULUS }]);
  const jwk = createPublicKey({ key: Buffer.from(published.PublicKey!), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  expect(Buffer.from(jwk.n!, 'base64url')).toEqual(modulus);
});
