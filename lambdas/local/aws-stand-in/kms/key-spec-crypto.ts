/**
 * What a KMS key's spec allows and the cryptography behind it, for keys whose material the
 * stand-in holds itself (generated for origin AWS_KMS, imported for origin EXTERNAL): asymmetric
 * signing keys (RSA, NIST and SECG curves), HMAC keys, and the checks imported material must pass.
 * Symmetric encryption (SYMMETRIC_DEFAULT) uses the framework's own ciphertext format.
 *
 * Which algorithms each spec allows is key-specs.ts's table. Material is raw bytes: 32 bytes for SYMMETRIC_DEFAULT, the secret for HMAC keys, a PKCS#8 DER
 * private key for asymmetric keys (the format ImportKeyMaterial takes). Algorithms, limits and
 * exception names are the ones the SDK's models (@aws-sdk/client-kms) list.
 */
import {
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  constants,
  generateKeyPairSync,
  KeyObject,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  sign as signData,
  timingSafeEqual,
  verify as verifyData,
} from 'node:crypto';
import { AwsError } from '../aws-error';
import { KEY_SPECS } from './key-specs';

export const RSA_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
export const ECC_SPECS = ['ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1'] as const;
export const HMAC_SPECS = ['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'] as const;

/** Key specs whose material this module makes and checks (SYMMETRIC_DEFAULT: 256 random bits). */
export const MATERIAL_KEY_SPECS = ['SYMMETRIC_DEFAULT', ...RSA_SPECS, ...ECC_SPECS, ...HMAC_SPECS] as const;

type RsaSpec = (typeof RSA_SPECS)[number];
type EccSpec = (typeof ECC_SPECS)[number];
type HmacSpec = (typeof HMAC_SPECS)[number];

const RSA_BITS: Record<RsaSpec, number> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };
/** Node's (OpenSSL's) names for the curves. */
const ECC_CURVES: Record<EccSpec, { readonly curve: string }> = {
  ECC_NIST_P256: { curve: 'prime256v1' },
  ECC_NIST_P384: { curve: 'secp384r1' },
  ECC_NIST_P521: { curve: 'secp521r1' },
  ECC_SECG_P256K1: { curve: 'secp256k1' },
};
/** The hash of each HMAC spec, and the key lengths KMS accepts on import (bytes). */
const HMAC: Record<HmacSpec, { readonly algorithm: string; readonly hash: string; readonly minBytes: number; readonly maxBytes: number; readonly generatedBytes: number }> = {
  HMAC_224: { algorithm: 'HMAC_SHA_224', hash: 'sha224', minBytes: 28, maxBytes: 64, generatedBytes: 28 },
  HMAC_256: { algorithm: 'HMAC_SHA_256', hash: 'sha256', minBytes: 32, maxBytes: 64, generatedBytes: 32 },
  HMAC_384: { algorithm: 'HMAC_SHA_384', hash: 'sha384', minBytes: 48, maxBytes: 128, generatedBytes: 48 },
  HMAC_512: { algorithm: 'HMAC_SHA_512', hash: 'sha512', minBytes: 64, maxBytes: 128, generatedBytes: 64 },
};

/** Signing message limit (RAW): 4096 bytes. */
export const MAX_MESSAGE_BYTES = 4096;

const isRsa = (spec: string): spec is RsaSpec => (RSA_SPECS as readonly string[]).includes(spec);
const isEcc = (spec: string): spec is EccSpec => (ECC_SPECS as readonly string[]).includes(spec);
const isHmac = (spec: string): spec is HmacSpec => (HMAC_SPECS as readonly string[]).includes(spec);

/** New material for a key of origin AWS_KMS. */
export function generateKeyMaterial(spec: string): Buffer {
  if (spec === 'SYMMETRIC_DEFAULT') return randomBytes(32);
  if (isHmac(spec)) return randomBytes(HMAC[spec].generatedBytes);
  if (isRsa(spec)) return generateKeyPairSync('rsa', { modulusLength: RSA_BITS[spec] }).privateKey.export({ format: 'der', type: 'pkcs8' });
  if (isEcc(spec)) return generateKeyPairSync('ec', { namedCurve: ECC_CURVES[spec].curve }).privateKey.export({ format: 'der', type: 'pkcs8' });
  throw new AwsError('UnsupportedOperationException', `${spec} key spec is not supported by this KMS.`);
}

/**
 * ImportKeyMaterial's check that the unwrapped material fits the key: 256 bits for
 * SYMMETRIC_DEFAULT, the spec's key length range for HMAC, a PKCS#8 private key of the spec's
 * size or curve for asymmetric keys.
 */
export function checkImportedMaterial(spec: string, material: Buffer): void {
  const wrong = (what: string) => new AwsError('IncorrectKeyMaterialException', `The key material is not valid for a ${spec} KMS key: ${what}.`);
  if (spec === 'SYMMETRIC_DEFAULT') {
    if (material.length !== 32) throw wrong(`symmetric key material must be 256 bits, got ${material.length * 8}`);
    return;
  }
  if (isHmac(spec)) {
    const { minBytes, maxBytes } = HMAC[spec];
    if (material.length < minBytes || material.length > maxBytes) throw wrong(`HMAC key material must be ${minBytes} to ${maxBytes} bytes, got ${material.length}`);
    return;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
  } catch {
    throw wrong('it is not a DER-encoded PKCS#8 private key');
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (isRsa(spec)) {
    if (key.asymmetricKeyType !== 'rsa' || details.modulusLength !== RSA_BITS[spec]) throw wrong(`expected an RSA ${RSA_BITS[spec]}-bit private key`);
    return;
  }
  if (isEcc(spec)) {
    const expected = ECC_CURVES[spec].curve;
    if (key.asymmetricKeyType !== 'ec' || details.namedCurve !== expected) throw wrong(`expected an EC private key on ${expected}`);
    return;
  }
  throw new AwsError('UnsupportedOperationException', `${spec} key spec is not supported by this KMS.`);
}

/** GetPublicKey's PublicKey: the DER-encoded SubjectPublicKeyInfo (RFC 5280). */
export function publicKeyOf(spec: string, material: Buffer): Buffer {
  if (!isRsa(spec) && !isEcc(spec)) throw new AwsError('UnsupportedOperationException', `You cannot perform this operation on a ${spec} KMS key.`);
  return createPublicKey(privateKeyOf(material)).export({ format: 'der', type: 'spki' });
}

interface SigningRequest {
  readonly spec: string;
  readonly material: Buffer;
  readonly signingAlgorithm: string;
  readonly message: Buffer;
  /** RAW (default) or DIGEST. */
  readonly messageType?: string;
}

/** Sign: RSA signatures per PKCS #1 (PSS with a salt as long as the hash), ECDSA as DER (RFC 3279). */
export function sign(request: SigningRequest): Buffer {
  const { key, options, digest } = signingSetup(request);
  if (request.messageType === 'DIGEST') {
    if (!options.rsa) return signEcdsaDigest(request.spec as EccSpec, key, request.message);
    return signRsaDigest(key, options.rsa, digest, request.message);
  }
  return signData(digest, request.message, { key, ...options.node });
}

/** Verify: true when the signature is valid (the operation answers KMSInvalidSignatureException otherwise). */
export function verify(request: SigningRequest & { readonly signature: Buffer }): boolean {
  const { key, options, digest } = signingSetup(request);
  const publicKey = createPublicKey(key);
  if (request.messageType === 'DIGEST') {
    if (!options.rsa) return verifyEcdsaDigest(request.spec as EccSpec, key, request.message, request.signature);
    return verifyRsaDigest(publicKey, options.rsa, digest, request.message, request.signature);
  }
  try {
    return verifyData(digest, request.message, { key: publicKey, ...options.node }, request.signature);
  } catch {
    return false; // a signature that is not even well-formed DER
  }
}

/** GenerateMac: HMAC of the message with the key's material. */
export function generateMac(spec: string, material: Buffer, macAlgorithm: string, message: Buffer): Buffer {
  if (!isHmac(spec)) throw new AwsError('InvalidKeyUsageException', `You cannot generate a MAC with a ${spec} KMS key.`);
  if (HMAC[spec].algorithm !== macAlgorithm) {
    throw new AwsError('InvalidKeyUsageException', `${macAlgorithm} is not a valid MAC algorithm for this KMS key. Valid algorithms: ${HMAC[spec].algorithm}.`);
  }
  return createHmac(HMAC[spec].hash, material).update(message).digest();
}

/** VerifyMac: constant-time comparison of the recomputed MAC with the given one. */
export function verifyMac(spec: string, material: Buffer, macAlgorithm: string, message: Buffer, mac: Buffer): boolean {
  const expected = generateMac(spec, material, macAlgorithm, message);
  return expected.length === mac.length && timingSafeEqual(expected, mac);
}

/** Encrypt with an RSA ENCRYPT_DECRYPT key (RSAES_OAEP_SHA_1 / _SHA_256). */
export function rsaEncrypt(spec: string, material: Buffer, algorithm: string, plaintext: Buffer): Buffer {
  const hash = oaepHashFor(spec, algorithm);
  const maxBytes = RSA_BITS[spec as RsaSpec] / 8 - 2 * createHash(hash).digest().length - 2;
  if (plaintext.length > maxBytes) {
    throw new AwsError('ValidationException', `Plaintext is too long for ${algorithm} with a ${spec} key: at most ${maxBytes} bytes.`);
  }
  return publicEncrypt({ key: createPublicKey(privateKeyOf(material)), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

/** Decrypt with an RSA ENCRYPT_DECRYPT key; InvalidCiphertextException when it does not decrypt. */
export function rsaDecrypt(spec: string, material: Buffer, algorithm: string, ciphertext: Buffer): Buffer {
  const hash = oaepHashFor(spec, algorithm);
  try {
    return privateDecrypt({ key: privateKeyOf(material), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext);
  } catch {
    throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid for this KMS key and encryption algorithm.');
  }
}

function oaepHashFor(spec: string, algorithm: string): string {
  if (!isRsa(spec)) throw new AwsError('InvalidKeyUsageException', `You cannot use ${algorithm} with a ${spec} KMS key.`);
  if (algorithm === 'RSAES_OAEP_SHA_1') return 'sha1';
  if (algorithm === 'RSAES_OAEP_SHA_256') return 'sha256';
  throw new AwsError('InvalidKeyUsageException', `${algorithm} is not a valid encryption algorithm for this KMS key. Valid algorithms: ${(KEY_SPECS[spec]?.encryptionAlgorithms ?? []).join(', ')}.`);
}

interface SigningOptions {
  /** Options for node:crypto sign/verify. */
  readonly node: { padding?: number; saltLength?: number; dsaEncoding?: 'der' };
  /** RSA only: the padding scheme, for DIGEST signing. */
  readonly rsa?: 'pss' | 'pkcs1';
}

function signingSetup(request: SigningRequest): { key: KeyObject; options: SigningOptions; digest: string } {
  const { spec, signingAlgorithm, message, messageType = 'RAW' } = request;
  const allowed = KEY_SPECS[spec]?.signingAlgorithms;
  if (!allowed) throw new AwsError('InvalidKeyUsageException', `You cannot sign or verify with a ${spec} KMS key.`);
  if (!allowed.includes(signingAlgorithm)) {
    throw new AwsError('InvalidKeyUsageException', `${signingAlgorithm} is not a valid signing algorithm for this KMS key. Valid algorithms: ${allowed.join(', ')}.`);
  }
  const digest = `sha${signingAlgorithm.slice(-3)}`;
  if (messageType === 'RAW' && message.length > MAX_MESSAGE_BYTES) {
    throw new AwsError('ValidationException', `1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to ${MAX_MESSAGE_BYTES}`);
  }
  if (messageType === 'DIGEST' && message.length !== createHash(digest).digest().length) {
    throw new AwsError('ValidationException', `Digest is invalid length for algorithm ${signingAlgorithm}.`);
  }
  if (messageType !== 'RAW' && messageType !== 'DIGEST') {
    throw new AwsError('ValidationException', `1 validation error detected: Value '${messageType}' at 'messageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]`);
  }
  const key = privateKeyOf(request.material);
  if (signingAlgorithm.startsWith('RSASSA_PSS')) {
    return { key, digest, options: { node: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, rsa: 'pss' } };
  }
  if (signingAlgorithm.startsWith('RSASSA_PKCS1')) return { key, digest, options: { node: { padding: constants.RSA_PKCS1_PADDING }, rsa: 'pkcs1' } };
  return { key, digest, options: { node: { dsaEncoding: 'der' } } };
}

function privateKeyOf(material: Buffer): KeyObject {
  return createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
}

// --- RSA over a precomputed digest (MessageType DIGEST) --------------------------------------
// node:crypto hashes before it signs; with a digest in hand, the encoding of PKCS #1 (RFC 8017)
// is applied here and the raw RSA operation done with privateEncrypt / publicDecrypt.

/** DER prefix of DigestInfo for each hash (RFC 8017 section 9.2, note 1). */
const DIGEST_INFO_PREFIX: Record<string, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

function signRsaDigest(key: KeyObject, scheme: 'pss' | 'pkcs1', hash: string, digest: Buffer): Buffer {
  if (scheme === 'pkcs1') {
    return privateEncryptRaw(key, Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], 'hex'), digest]), constants.RSA_PKCS1_PADDING);
  }
  const modulusBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return privateEncryptRaw(key, emsaPssEncode(hash, digest, modulusBits - 1), constants.RSA_NO_PADDING);
}

function verifyRsaDigest(key: KeyObject, scheme: 'pss' | 'pkcs1', hash: string, digest: Buffer, signature: Buffer): boolean {
  let recovered: Buffer;
  try {
    recovered = publicDecryptRaw(key, signature, scheme === 'pkcs1' ? constants.RSA_PKCS1_PADDING : constants.RSA_NO_PADDING);
  } catch {
    return false;
  }
  if (scheme === 'pkcs1') return recovered.equals(Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], 'hex'), digest]));
  const modulusBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return emsaPssVerify(hash, digest, recovered, modulusBits - 1);
}

function privateEncryptRaw(key: KeyObject, data: Buffer, padding: number): Buffer {
  return privateEncrypt({ key, padding }, data);
}

function publicDecryptRaw(key: KeyObject, data: Buffer, padding: number): Buffer {
  return publicDecrypt({ key, padding }, data);
}

function mgf1(hash: string, seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * seed.length < length + seed.length; counter += 1) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 9.1.1) with a salt as long as the hash. */
function emsaPssEncode(hash: string, mHash: Buffer, emBits: number): Buffer {
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i += 1) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 9.1.2) with a salt as long as the hash. */
function emsaPssVerify(hash: string, mHash: Buffer, recovered: Buffer, emBits: number): boolean {
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  const em = recovered.subarray(recovered.length - emLen);
  if (recovered.subarray(0, recovered.length - emLen).some((byte) => byte !== 0)) return false;
  if (em[em.length - 1] !== 0xbc) return false;
  const db = Buffer.from(em.subarray(0, emLen - hLen - 1));
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i += 1) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  const separator = emLen - 2 * hLen - 2;
  if (db.subarray(0, separator).some((byte) => byte !== 0) || db[separator] !== 1) return false;
  const salt = db.subarray(separator + 1);
  const expected = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return expected.equals(h);
}

// --- ECDSA over a precomputed digest (MessageType DIGEST) ------------------------------------
// node:crypto has no ECDSA over a given digest. The point multiplications ECDSA needs are k*G,
// which ECDH's public key computation does; verifying with the private key d reduces to one:
// for a valid (r, s), k = s^-1 (e + r d) mod n, and x(k*G) mod n = r (FIPS 186-5, 6.4).

/** The order n of each curve's base point (SEC 2, FIPS 186-5). */
const CURVE_ORDERS: Record<EccSpec, bigint> = {
  ECC_NIST_P256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ECC_NIST_P384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ECC_NIST_P521: 0x1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  ECC_SECG_P256K1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
};

const toBigInt = (bytes: Buffer): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`));
const mod = (value: bigint, n: bigint): bigint => ((value % n) + n) % n;

function modInverse(value: bigint, n: bigint): bigint {
  let [a, b, x, y] = [mod(value, n), n, 1n, 0n];
  while (b !== 0n) {
    const q = a / b;
    [a, b, x, y] = [b, a - q * b, y, x - q * y];
  }
  return mod(x, n);
}

/** The digest as an integer, cut to the bit length of n (FIPS 186-5, 6.4.1 step 2). */
function digestInteger(digest: Buffer, n: bigint): bigint {
  const excess = digest.length * 8 - n.toString(2).length;
  const e = toBigInt(digest);
  return excess > 0 ? e >> BigInt(excess) : e;
}

/** x(k*G) mod n, with k*G computed as the ECDH public key of private key k. */
function rOf(spec: EccSpec, k: bigint, n: bigint): bigint {
  const size = Math.ceil(n.toString(2).length / 8);
  const ecdh = createECDH(ECC_CURVES[spec].curve);
  ecdh.setPrivateKey(Buffer.from(k.toString(16).padStart(size * 2, '0'), 'hex'));
  const point = ecdh.getPublicKey(); // 04 || x || y
  return mod(toBigInt(point.subarray(1, 1 + (point.length - 1) / 2)), n);
}

function privateScalar(key: KeyObject): bigint {
  const { d } = key.export({ format: 'jwk' });
  return toBigInt(Buffer.from(d ?? '', 'base64url'));
}

function signEcdsaDigest(spec: EccSpec, key: KeyObject, digest: Buffer): Buffer {
  const n = CURVE_ORDERS[spec];
  const d = privateScalar(key);
  const e = digestInteger(digest, n);
  for (;;) {
    const k = mod(toBigInt(randomBytes(Math.ceil(n.toString(2).length / 8) + 8)), n - 1n) + 1n;
    const r = rOf(spec, k, n);
    const s = mod(modInverse(k, n) * (e + r * d), n);
    if (r !== 0n && s !== 0n) return derSignature(r, s);
  }
}

function verifyEcdsaDigest(spec: EccSpec, key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const n = CURVE_ORDERS[spec];
  const parsed = parseDerSignature(signature);
  if (!parsed) return false;
  const { r, s } = parsed;
  if (r <= 0n || r >= n || s <= 0n || s >= n) return false;
  const k = mod(modInverse(s, n) * (digestInteger(digest, n) + r * privateScalar(key)), n);
  return k !== 0n && rOf(spec, k, n) === r;
}

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02]), derLength(bytes.length), bytes]);
}

function derLength(length: number): Buffer {
  return length < 0x80 ? Buffer.from([length]) : Buffer.from([0x81, length]);
}

/** ECDSA-Sig-Value (RFC 3279): SEQUENCE { r INTEGER, s INTEGER }. */
function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function parseDerSignature(der: Buffer): { r: bigint; s: bigint } | undefined {
  let offset = 0;
  const readLength = (): number => {
    const first = der[offset++];
    if (first < 0x80) return first;
    if (first !== 0x81) return -1;
    return der[offset++];
  };
  if (der[offset++] !== 0x30) return undefined;
  if (readLength() !== der.length - offset) return undefined;
  const integers: bigint[] = [];
  for (let i = 0; i < 2; i += 1) {
    if (der[offset++] !== 0x02) return undefined;
    const length = readLength();
    if (length <= 0 || offset + length > der.length) return undefined;
    integers.push(toBigInt(der.subarray(offset, offset + length)));
    offset += length;
  }
  return offset === der.length ? { r: integers[0], s: integers[1] } : undefined;
}
