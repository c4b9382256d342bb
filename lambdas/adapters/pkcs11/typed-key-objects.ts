/**
 * Source keys of every type in a partition: AES and generic secret keys (CKO_SECRET_KEY), RSA and
 * EC key pairs (CKO_PRIVATE_KEY + CKO_PUBLIC_KEY with the same CKA_ID). Generated inside the HSM,
 * described from what the HSM reports (attributes read back, public key as PEM), destroyed whole.
 *
 * On a key pair the caller's boolean attributes go to the private key, except CKA_ENCRYPT,
 * CKA_VERIFY and CKA_WRAP, which go to the public key (a private key has none of them); the
 * attributes reported are the private key's with those three read from the public key.
 */
import { createPublicKey } from 'node:crypto';
import * as pkcs11js from './pkcs11js';
import { HsmError } from '../../core/ports/hsm';
import { KEY_ATTRIBUTE_NAMES, type GenerateKeyRequest, type HsmKeyInfo, type KeyAttributeName } from '../../contract/hsm';
import { EC_CURVE_BITS, EC_CURVES, type EcCurve, type HsmKeyType } from '../../contract/hsm-key-types';
import { ATTRIBUTE_TYPES, findKeyHandles, generateAesKey, keyIdBytes, readKeyInfo } from './key-objects';
import type { SessionLease } from './session-lease';

/** DER of each curve's OID (CKA_EC_PARAMS as the `namedCurve` choice of ECParameters). */
const EC_PARAMS: Readonly<Record<EcCurve, Buffer>> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'P-384': Buffer.from('06052b81040022', 'hex'),
  'P-521': Buffer.from('06052b81040023', 'hex'),
  secp256k1: Buffer.from('06052b8104000a', 'hex'),
};

/** The attributes that belong to the public key of a pair. */
const PUBLIC_KEY_ATTRIBUTES: ReadonlySet<KeyAttributeName> = new Set(['CKA_ENCRYPT', 'CKA_VERIFY', 'CKA_WRAP']);
/** Attributes both halves of a pair get. */
const SHARED_ATTRIBUTES: ReadonlySet<KeyAttributeName> = new Set(['CKA_TOKEN', 'CKA_MODIFIABLE']);

const KEY_TYPES = new Map<number, HsmKeyType>([
  [pkcs11js.CKK_AES, 'AES'],
  [pkcs11js.CKK_RSA, 'RSA'],
  [pkcs11js.CKK_EC, 'EC'],
  [pkcs11js.CKK_GENERIC_SECRET, 'GENERIC_SECRET'],
]);

/** A key found by CKA_ID: the secret key, or the private key of a pair with its public key. */
export interface KeyObject {
  readonly handle: pkcs11js.Handle;
  readonly objectClass: 'secret' | 'private';
  readonly publicHandle?: pkcs11js.Handle;
}

/** The secret key or key pair with this CKA_ID; undefined when the partition has none. */
export async function findKeyObject(lease: SessionLease, objectId: string): Promise<KeyObject | undefined> {
  const [secret] = await findKeyHandles(lease, pkcs11js.CKO_SECRET_KEY, objectId, 1);
  if (secret !== undefined) return { handle: secret, objectClass: 'secret' };
  const [privateKey] = await findKeyHandles(lease, pkcs11js.CKO_PRIVATE_KEY, objectId, 1);
  if (privateKey === undefined) return undefined;
  const [publicHandle] = await findKeyHandles(lease, pkcs11js.CKO_PUBLIC_KEY, objectId, 1);
  return { handle: privateKey, objectClass: 'private', ...(publicHandle === undefined ? {} : { publicHandle }) };
}

/** The key as the HSM reports it: type, size or curve, attributes, a pair's public key. */
export async function describeKeyObject(lease: SessionLease, key: KeyObject): Promise<HsmKeyInfo> {
  const base = await readKeyInfo(lease, key.handle);
  const keyType = KEY_TYPES.get(readUlong(await readAttribute(lease, key.handle, pkcs11js.CKA_KEY_TYPE))) ?? 'OTHER';
  if (key.objectClass === 'secret') return { ...base, keyType };
  const publicKey = key.publicHandle === undefined ? undefined : await readPublicKey(lease, key.publicHandle, keyType);
  const attributes = { ...base.attributes };
  if (key.publicHandle !== undefined) {
    const publicInfo = await readKeyInfo(lease, key.publicHandle);
    for (const name of PUBLIC_KEY_ATTRIBUTES) attributes[name] = publicInfo.attributes[name];
  }
  return {
    ...base,
    keyType,
    sizeBits: publicKey?.sizeBits ?? 0,
    attributes,
    ...(publicKey?.curve === undefined ? {} : { curve: publicKey.curve }),
    ...(publicKey === undefined ? {} : { publicKeyPem: publicKey.pem }),
  };
}

/** Generates the key the request describes inside the HSM and returns it as read back. */
export async function generateKeyObject(lease: SessionLease, request: GenerateKeyRequest): Promise<HsmKeyInfo> {
  const keyType = request.keyType ?? 'AES';
  if ((await findKeyObject(lease, request.objectId)) !== undefined) {
    throw new HsmError('DEVICE_ERROR', undefined, `a key with CKA_ID ${request.objectId} already exists`);
  }
  if (keyType === 'AES') return generateAesKey(lease, request);
  const { pkcs11, session } = lease;
  const common: pkcs11js.Template = [
    { type: pkcs11js.CKA_ID, value: keyIdBytes(request.objectId) },
    { type: pkcs11js.CKA_LABEL, value: request.label },
  ];
  const booleans = (keep: (name: KeyAttributeName) => boolean): pkcs11js.Template =>
    KEY_ATTRIBUTE_NAMES.filter(keep).map((name) => ({ type: ATTRIBUTE_TYPES[name], value: name === 'CKA_TOKEN' || request.attributes[name] === true }));
  if (keyType === 'GENERIC_SECRET') {
    const template: pkcs11js.Template = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
      { type: pkcs11js.CKA_VALUE_LEN, value: request.sizeBits / 8 },
      ...common,
      ...booleans(() => true),
    ];
    await lease.callAsync('C_GenerateKey', () => pkcs11.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, template));
  } else {
    const curve = request.curve;
    if (keyType === 'EC' && (curve === undefined || !EC_CURVES.includes(curve))) throw new HsmError('DEVICE_ERROR', undefined, 'an EC key needs one of the curves P-256, P-384, P-521, secp256k1');
    const publicTemplate: pkcs11js.Template = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      ...common,
      { type: pkcs11js.CKA_PRIVATE, value: false },
      ...booleans((name) => PUBLIC_KEY_ATTRIBUTES.has(name) || SHARED_ATTRIBUTES.has(name)),
      ...(keyType === 'RSA'
        ? [
            { type: pkcs11js.CKA_MODULUS_BITS, value: request.sizeBits },
            { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
          ]
        : [{ type: pkcs11js.CKA_EC_PARAMS, value: EC_PARAMS[curve as EcCurve] }]),
    ];
    const privateTemplate: pkcs11js.Template = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      ...common,
      ...booleans((name) => !PUBLIC_KEY_ATTRIBUTES.has(name)),
    ];
    const mechanism = keyType === 'RSA' ? pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN;
    await lease.callAsync('C_GenerateKeyPair', () => pkcs11.C_GenerateKeyPairAsync(session, { mechanism }, publicTemplate, privateTemplate));
  }
  const generated = await findKeyObject(lease, request.objectId);
  if (generated === undefined) throw new HsmError('DEVICE_ERROR', undefined, `the HSM reported no key with CKA_ID ${request.objectId} after generating it`);
  return describeKeyObject(lease, generated);
}

/** Destroys every secret, private and public key with this CKA_ID; none is not an error. */
export async function destroyKeyObjects(lease: SessionLease, objectId: string): Promise<void> {
  for (const objectClass of [pkcs11js.CKO_SECRET_KEY, pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKO_PUBLIC_KEY]) {
    for (const handle of await findKeyHandles(lease, objectClass, objectId, 64)) {
      await lease.sessionCall('C_DestroyObject', lease.session, handle);
    }
  }
  lease.forgetKey(objectId);
}

async function readAttribute(lease: SessionLease, handle: pkcs11js.Handle, type: number): Promise<Buffer> {
  const [attribute] = await lease.sessionCall('C_GetAttributeValue', lease.session, handle, [{ type }]);
  if (!Buffer.isBuffer(attribute?.value)) throw new HsmError('DEVICE_ERROR', undefined, `the HSM reported no value for attribute 0x${type.toString(16)}`);
  return attribute.value;
}

/** CK_ULONG in the platform's byte order (little-endian on the x86-64 and arm64 Lambda hosts). */
function readUlong(value: Buffer): number {
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}

/** The public key object as PEM, with the modulus size (RSA) or the curve (EC). */
async function readPublicKey(lease: SessionLease, handle: pkcs11js.Handle, keyType: HsmKeyType | 'OTHER'): Promise<{ pem: string; sizeBits: number; curve?: EcCurve } | undefined> {
  if (keyType === 'RSA') {
    const modulus = stripLeadingZeros(await readAttribute(lease, handle, pkcs11js.CKA_MODULUS));
    const exponent = stripLeadingZeros(await readAttribute(lease, handle, pkcs11js.CKA_PUBLIC_EXPONENT));
    const key = createPublicKey({ key: { kty: 'RSA', n: modulus.toString('base64url'), e: exponent.toString('base64url') }, format: 'jwk' });
    return { pem: key.export({ format: 'pem', type: 'spki' }).toString(), sizeBits: modulus.length * 8 };
  }
  if (keyType !== 'EC') return undefined;
  const params = await readAttribute(lease, handle, pkcs11js.CKA_EC_PARAMS);
  const curve = EC_CURVES.find((name) => EC_PARAMS[name].equals(params));
  if (curve === undefined) return undefined;
  const point = ecPoint(await readAttribute(lease, handle, pkcs11js.CKA_EC_POINT));
  const algorithm = der(0x30, Buffer.concat([Buffer.from('06072a8648ce3d0201', 'hex'), params]));
  const spki = der(0x30, Buffer.concat([algorithm, der(0x03, Buffer.concat([Buffer.from([0]), point]))]));
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return { pem: key.export({ format: 'pem', type: 'spki' }).toString(), sizeBits: EC_CURVE_BITS[curve], curve };
}

/** CKA_EC_POINT is the DER OCTET STRING of the uncompressed point; some HSMs give the raw point. */
function ecPoint(value: Buffer): Buffer {
  if (value[0] !== 0x04 || value.length < 2) return value;
  const lengthByte = value[1];
  const lengthOfLength = lengthByte < 0x80 ? 0 : lengthByte & 0x7f;
  const length = lengthOfLength === 0 ? lengthByte : value.subarray(2, 2 + lengthOfLength).readUIntBE(0, lengthOfLength);
  const headerLength = 2 + lengthOfLength;
  return headerLength + length === value.length ? value.subarray(headerLength) : value;
}

/** A DER element: tag, definite length, contents. */
function der(tag: number, contents: Buffer): Buffer {
  const length = contents.length;
  const lengthBytes = length < 0x80 ? Buffer.from([length]) : length < 0x100 ? Buffer.from([0x81, length]) : Buffer.from([0x82, length >> 8, length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), lengthBytes, contents]);
}

function stripLeadingZeros(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  return value.subarray(start);
}
