/**
 * Importing key material into the local KMS through the real @aws-sdk/client-kms, wrapped on the
 * client side as AWS's documentation describes (RSA-OAEP with the wrapping public key, or an
 * ephemeral AES key under RSA-OAEP followed by the material under AES key wrap with padding), and
 * the material really used afterwards: Encrypt/Decrypt, Sign/Verify and GetPublicKey checked with
 * node:crypto against the key pair that was imported, GenerateMac against createHmac.
 */
import { execFile } from 'node:child_process';
import {
  constants,
  createCipheriv,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import {
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
  type AlgorithmSpec,
  type KeySpec,
  type KeyUsageType,
  type WrappingKeySpec,
} from '@aws-sdk/client-kms';
import { IMPORT_PARAMETERS } from '../../../lambdas/local/aws-stand-in/kms/import-operations';
import { keysOf } from '../../../lambdas/local/aws-stand-in/kms/key-record';
import { failureOf, standInFixture, type StandInFixture } from './stand-in-fixture';

const execFileAsync = promisify(execFile);
let aws: StandInFixture;

beforeAll(async () => {
  aws = await standInFixture();
});

afterAll(async () => {
  await aws?.stop();
});

const scope = () => aws.standIn.state.scope(aws.standIn.accountId, aws.standIn.region);

async function externalKey(KeySpec: KeySpec = 'SYMMETRIC_DEFAULT', KeyUsage?: KeyUsageType): Promise<string> {
  const { KeyMetadata } = await aws.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', KeySpec, KeyUsage }));
  return KeyMetadata!.KeyId!;
}

/** What a customer does with the wrapping public key (AWS's "Encrypt the key material" steps). */
function wrap(publicKeyDer: Uint8Array, algorithm: AlgorithmSpec, material: Buffer): Buffer {
  const oaepHash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  const publicKey = { key: createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash };
  if (algorithm.startsWith('RSAES')) return publicEncrypt(publicKey, material);
  const aesKey = randomBytes(32);
  const kwp = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([publicEncrypt(publicKey, aesKey), kwp.update(material), kwp.final()]);
}

async function importMaterial(
  keyId: string,
  material: Buffer,
  options: { algorithm?: AlgorithmSpec; wrappingKeySpec?: WrappingKeySpec; validTo?: Date } = {},
): Promise<{ importToken: Uint8Array; keyMaterialId?: string }> {
  const algorithm = options.algorithm ?? 'RSAES_OAEP_SHA_256';
  const parameters = await aws.kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: options.wrappingKeySpec ?? 'RSA_2048' }));
  const { KeyMaterialId } = await aws.kms.send(
    new ImportKeyMaterialCommand({
      KeyId: keyId,
      ImportToken: parameters.ImportToken,
      EncryptedKeyMaterial: wrap(parameters.PublicKey!, algorithm, material),
      ...(options.validTo ? { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: options.validTo } : { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
    }),
  );
  return { importToken: parameters.ImportToken!, keyMaterialId: KeyMaterialId };
}

const pkcs8 = (key: KeyObject): Buffer => key.export({ format: 'der', type: 'pkcs8' });

describe('symmetric keys with imported material', () => {
  it('are PendingImport until material is imported, then encrypt and decrypt with it', async () => {
    // Arrange
    const keyId = await externalKey();
    const before = (await aws.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    expect(before).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport', Enabled: false });
    await expect(failureOf(aws.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })))).resolves.toMatchObject({ name: 'KMSInvalidStateException' });
    // Act
    const parameters = await aws.kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const { KeyMaterialId } = await aws.kms.send(
      new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: parameters.ImportToken, EncryptedKeyMaterial: wrap(parameters.PublicKey!, 'RSAES_OAEP_SHA_256', randomBytes(32)), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
    );
    // Assert
    expect(parameters.KeyId).toBe(before.Arn);
    expect(createPublicKey({ key: Buffer.from(parameters.PublicKey!), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(Math.abs(parameters.ParametersValidTo!.getTime() - Date.now() - 24 * 3600_000)).toBeLessThan(60_000);
    expect(KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    const after = (await aws.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    expect(after).toMatchObject({ KeyState: 'Enabled', Enabled: true, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    const { CiphertextBlob } = await aws.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('imported') }));
    expect(Buffer.from((await aws.kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe('imported');
  });

  it('DeleteImportedKeyMaterial makes the key unusable; re-importing the same material restores it, other material is refused', async () => {
    // Arrange
    const keyId = await externalKey();
    const material = randomBytes(32);
    await importMaterial(keyId, material, { algorithm: 'RSA_AES_KEY_WRAP_SHA_1', wrappingKeySpec: 'RSA_3072' });
    const { CiphertextBlob } = await aws.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('kept') }));
    // Act
    await aws.kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: keyId }));
    // Assert
    expect((await aws.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState).toBe('PendingImport');
    await expect(failureOf(aws.kms.send(new DecryptCommand({ CiphertextBlob })))).resolves.toMatchObject({ name: 'KMSInvalidStateException' });
    await expect(failureOf(importMaterial(keyId, randomBytes(32)))).resolves.toMatchObject({ name: 'IncorrectKeyMaterialException' });
    await importMaterial(keyId, material, { algorithm: 'RSAES_OAEP_SHA_1' });
    expect(Buffer.from((await aws.kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe('kept');
  });

  it('refuses tokens of another key, unknown and expired tokens, material of the wrong size and unwrappable material', async () => {
    // Arrange
    const keyId = await externalKey();
    const otherKeyId = await externalKey();
    const mine = await aws.kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const theirs = await aws.kms.send(new GetParametersForImportCommand({ KeyId: otherKeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const send = (token: Uint8Array, encrypted: Buffer) =>
      aws.kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: encrypted, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    // Act / Assert
    await expect(failureOf(send(theirs.ImportToken!, wrap(theirs.PublicKey!, 'RSAES_OAEP_SHA_256', randomBytes(32))))).resolves.toMatchObject({ name: 'InvalidImportTokenException' });
    await expect(failureOf(send(randomBytes(64), wrap(mine.PublicKey!, 'RSAES_OAEP_SHA_256', randomBytes(32))))).resolves.toMatchObject({ name: 'InvalidImportTokenException' });
    await expect(failureOf(send(mine.ImportToken!, wrap(theirs.PublicKey!, 'RSAES_OAEP_SHA_256', randomBytes(32))))).resolves.toMatchObject({ name: 'InvalidCiphertextException' });
    await expect(failureOf(send(mine.ImportToken!, wrap(mine.PublicKey!, 'RSAES_OAEP_SHA_256', randomBytes(16))))).resolves.toMatchObject({ name: 'IncorrectKeyMaterialException' });
    const parameters = scope().collection<{ keyId: string; validTo: number }>(IMPORT_PARAMETERS);
    for (const id of parameters.ids()) {
      const record = parameters.get(id)!;
      if (record.keyId === keyId) parameters.put(id, { ...record, validTo: Math.floor(Date.now() / 1000) - 1 });
    }
    await expect(failureOf(send(mine.ImportToken!, wrap(mine.PublicKey!, 'RSAES_OAEP_SHA_256', randomBytes(32))))).resolves.toMatchObject({ name: 'ExpiredImportTokenException' });
    expect((await aws.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState).toBe('PendingImport');
  });

  it('checks ExpirationModel and ValidTo, and deletes the material once ValidTo has passed', async () => {
    // Arrange
    const keyId = await externalKey();
    const parameters = await aws.kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const request = (fields: object) =>
      aws.kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: parameters.ImportToken, EncryptedKeyMaterial: wrap(parameters.PublicKey!, 'RSAES_OAEP_SHA_256', randomBytes(32)), ...fields }));
    // Act / Assert
    await expect(failureOf(request({}))).resolves.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('ValidTo') });
    await expect(failureOf(request({ ValidTo: new Date(Date.now() - 1000) }))).resolves.toMatchObject({ name: 'ValidationException' });
    await expect(failureOf(request({ ValidTo: new Date(Date.now() + 366 * 24 * 3600_000) }))).resolves.toMatchObject({ name: 'ValidationException' });
    await expect(failureOf(request({ ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: new Date(Date.now() + 3600_000) }))).resolves.toMatchObject({ name: 'ValidationException' });
    const validTo = new Date(Math.floor(Date.now() / 1000 + 7200) * 1000);
    await request({ ValidTo: validTo });
    expect((await aws.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo, KeyState: 'Enabled' });
    const record = keysOf(scope()).get(keyId)!;
    keysOf(scope()).put(keyId, { ...record, validTo: Math.floor(Date.now() / 1000) - 1 });
    await expect(failureOf(aws.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })))).resolves.toMatchObject({ name: 'KMSInvalidStateException' });
    expect((await aws.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState).toBe('PendingImport');
  });

  it('refuses keys that are not of origin EXTERNAL and wrapping choices AWS refuses', async () => {
    const { KeyMetadata } = await aws.kms.send(new CreateKeyCommand({}));
    await expect(failureOf(aws.kms.send(new GetParametersForImportCommand({ KeyId: KeyMetadata!.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })))).resolves.toMatchObject({ name: 'UnsupportedOperationException' });
    const rsaKey = await externalKey('RSA_2048', 'SIGN_VERIFY');
    await expect(failureOf(aws.kms.send(new GetParametersForImportCommand({ KeyId: rsaKey, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096' })))).resolves.toMatchObject({ name: 'UnsupportedOperationException' });
    const p521 = await externalKey('ECC_NIST_P521', 'SIGN_VERIFY');
    await expect(failureOf(aws.kms.send(new GetParametersForImportCommand({ KeyId: p521, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' })))).resolves.toMatchObject({ name: 'UnsupportedOperationException' });
    await expect(failureOf(aws.kms.send(new GetParametersForImportCommand({ KeyId: p521, WrappingAlgorithm: 'RSAES_PKCS1_V1_5', WrappingKeySpec: 'RSA_4096' })))).resolves.toMatchObject({ name: 'UnsupportedOperationException' });
  });
});

describe('asymmetric keys with imported material', () => {
  it.each([
    ['RSA_2048', 'RSASSA_PSS_SHA_256', () => generateKeyPairSync('rsa', { modulusLength: 2048 }), 'RSA_AES_KEY_WRAP_SHA_256'],
    ['RSA_3072', 'RSASSA_PKCS1_V1_5_SHA_512', () => generateKeyPairSync('rsa', { modulusLength: 3072 }), 'RSA_AES_KEY_WRAP_SHA_1'],
    ['ECC_NIST_P256', 'ECDSA_SHA_256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), 'RSAES_OAEP_SHA_256'],
    ['ECC_NIST_P384', 'ECDSA_SHA_384', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' }), 'RSA_AES_KEY_WRAP_SHA_256'],
    ['ECC_NIST_P521', 'ECDSA_SHA_512', () => generateKeyPairSync('ec', { namedCurve: 'secp521r1' }), 'RSA_AES_KEY_WRAP_SHA_256'],
    ['ECC_SECG_P256K1', 'ECDSA_SHA_256', () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }), 'RSAES_OAEP_SHA_1'],
  ] as const)('%s: GetPublicKey is the imported key pair\'s public key; KMS signatures (%s) verify with it, and KMS verifies its signatures', async (spec, algorithm, pair, wrapping) => {
    // Arrange
    const { publicKey, privateKey } = pair();
    const keyId = await externalKey(spec, 'SIGN_VERIFY');
    // RSA_3072 for RSA-OAEP: an RSA_2048 wrapping key cannot carry every curve's private key directly.
    await importMaterial(keyId, pkcs8(privateKey), { algorithm: wrapping, wrappingKeySpec: wrapping.startsWith('RSAES') ? 'RSA_3072' : 'RSA_2048' });
    const message = Buffer.from(`a message for ${spec}`);
    const hash = `sha${algorithm.slice(-3)}`;
    const padding = algorithm.includes('PSS') ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : algorithm.includes('PKCS1') ? { padding: constants.RSA_PKCS1_PADDING } : { dsaEncoding: 'der' as const };
    // Act
    const published = await aws.kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    const { Signature } = await aws.kms.send(new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: algorithm }));
    const ours = nodeSign(hash, message, { key: privateKey, ...padding });
    const verified = await aws.kms.send(new VerifyCommand({ KeyId: keyId, Message: message, Signature: ours, SigningAlgorithm: algorithm }));
    // Assert
    expect(Buffer.from(published.PublicKey!)).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
    expect(published).toMatchObject({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: expect.arrayContaining([algorithm]) });
    expect(nodeVerify(hash, message, { key: publicKey, ...padding }, Buffer.from(Signature!))).toBe(true);
    expect(verified.SignatureValid).toBe(true);
    await expect(failureOf(aws.kms.send(new VerifyCommand({ KeyId: keyId, Message: Buffer.from('another message'), Signature: ours, SigningAlgorithm: algorithm })))).resolves.toMatchObject({ name: 'KMSInvalidSignatureException' });
  });

  it('refuses a private key of another size or curve, and a second import of other material', async () => {
    const keyId = await externalKey('ECC_NIST_P256', 'SIGN_VERIFY');
    await expect(failureOf(importMaterial(keyId, pkcs8(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey)))).resolves.toMatchObject({ name: 'IncorrectKeyMaterialException' });
    await importMaterial(keyId, pkcs8(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey));
    await expect(failureOf(importMaterial(keyId, pkcs8(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey)))).resolves.toMatchObject({ name: 'IncorrectKeyMaterialException' });
    await expect(failureOf(aws.kms.send(new SignCommand({ KeyId: keyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_384' })))).resolves.toMatchObject({ name: 'InvalidKeyUsageException' });
  });

  it('the AWS CLI reads the same public key (aws kms get-public-key)', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyId = await externalKey('RSA_2048', 'SIGN_VERIFY');
    await importMaterial(keyId, pkcs8(privateKey), { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    const env = { ...process.env, AWS_ACCESS_KEY_ID: aws.standIn.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.standIn.secretAccessKey, AWS_DEFAULT_REGION: aws.standIn.region, AWS_SESSION_TOKEN: '' };
    const { stdout } = await execFileAsync('aws', ['kms', 'get-public-key', '--key-id', keyId, '--endpoint-url', aws.standIn.endpointUrl, '--output', 'json'], { env });
    expect(Buffer.from(JSON.parse(stdout).PublicKey, 'base64')).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
  });
});

describe('HMAC keys', () => {
  it.each([
    ['HMAC_224', 'HMAC_SHA_224', 'sha224', 28],
    ['HMAC_256', 'HMAC_SHA_256', 'sha256', 32],
    ['HMAC_384', 'HMAC_SHA_384', 'sha384', 48],
    ['HMAC_512', 'HMAC_SHA_512', 'sha512', 64],
  ] as const)('%s with imported material: GenerateMac equals createHmac(%s) with that material; VerifyMac accepts it and refuses another', async (spec, algorithm, hash, bytes) => {
    const keyId = await externalKey(spec, 'GENERATE_VERIFY_MAC');
    const material = randomBytes(bytes);
    await importMaterial(keyId, material);
    const message = Buffer.from('mac me');
    const { Mac } = await aws.kms.send(new GenerateMacCommand({ KeyId: keyId, Message: message, MacAlgorithm: algorithm }));
    expect(Buffer.from(Mac!)).toEqual(createHmac(hash, material).update(message).digest());
    expect((await aws.kms.send(new VerifyMacCommand({ KeyId: keyId, Message: message, Mac, MacAlgorithm: algorithm }))).MacValid).toBe(true);
    await expect(failureOf(aws.kms.send(new VerifyMacCommand({ KeyId: keyId, Message: Buffer.from('other'), Mac, MacAlgorithm: algorithm })))).resolves.toMatchObject({ name: 'KMSInvalidMacException' });
  });
});

describe('asymmetric and HMAC keys of origin AWS_KMS', () => {
  it('CreateKey ECC_NIST_P384 SIGN_VERIFY: Sign verifies with GetPublicKey; GenerateMac on it is InvalidKeyUsageException', async () => {
    const { KeyMetadata } = await aws.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' }));
    expect(KeyMetadata).toMatchObject({ KeySpec: 'ECC_NIST_P384', SigningAlgorithms: ['ECDSA_SHA_384'], KeyState: 'Enabled' });
    const message = Buffer.from('native');
    const { Signature } = await aws.kms.send(new SignCommand({ KeyId: KeyMetadata!.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_384' }));
    const { PublicKey } = await aws.kms.send(new GetPublicKeyCommand({ KeyId: KeyMetadata!.KeyId }));
    expect(nodeVerify('sha384', message, createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' }), Buffer.from(Signature!))).toBe(true);
    await expect(failureOf(aws.kms.send(new GenerateMacCommand({ KeyId: KeyMetadata!.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' })))).resolves.toMatchObject({ name: 'InvalidKeyUsageException' });
  });

  it('CreateKey HMAC_512: GenerateMac / VerifyMac; GetPublicKey is UnsupportedOperationException', async () => {
    const { KeyMetadata } = await aws.kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_512', KeyUsage: 'GENERATE_VERIFY_MAC' }));
    const { Mac } = await aws.kms.send(new GenerateMacCommand({ KeyId: KeyMetadata!.KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512' }));
    expect(Mac).toHaveLength(64);
    expect((await aws.kms.send(new VerifyMacCommand({ KeyId: KeyMetadata!.KeyId, Message: Buffer.from('m'), Mac, MacAlgorithm: 'HMAC_SHA_512' }))).MacValid).toBe(true);
    await expect(failureOf(aws.kms.send(new GetPublicKeyCommand({ KeyId: KeyMetadata!.KeyId })))).resolves.toMatchObject({ name: 'UnsupportedOperationException' });
  });
});
