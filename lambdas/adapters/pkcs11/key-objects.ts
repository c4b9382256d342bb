/**
 * AES key objects in a partition: found by CKA_ID among CKO_SECRET_KEY objects, described from
 * the attributes the HSM reports, generated inside the HSM.
 */
import * as pkcs11js from './pkcs11js';
import { HsmError } from '../../core/ports/hsm';
import {
  KEY_ATTRIBUTE_NAMES,
  type GenerateKeyRequest,
  type HsmKeyInfo,
  type KeyAttributeName,
  type KeyAttributes,
} from '../../contract/hsm';
import type { CachedKey, SessionLease } from './session-lease';
import { isError } from '../../core/errors';

export const ATTRIBUTE_TYPES: Readonly<Record<KeyAttributeName, number>> = {
  CKA_ENCRYPT: pkcs11js.CKA_ENCRYPT,
  CKA_DECRYPT: pkcs11js.CKA_DECRYPT,
  CKA_WRAP: pkcs11js.CKA_WRAP,
  CKA_UNWRAP: pkcs11js.CKA_UNWRAP,
  CKA_SIGN: pkcs11js.CKA_SIGN,
  CKA_VERIFY: pkcs11js.CKA_VERIFY,
  CKA_DERIVE: pkcs11js.CKA_DERIVE,
  CKA_SENSITIVE: pkcs11js.CKA_SENSITIVE,
  CKA_EXTRACTABLE: pkcs11js.CKA_EXTRACTABLE,
  CKA_MODIFIABLE: pkcs11js.CKA_MODIFIABLE,
  CKA_TOKEN: pkcs11js.CKA_TOKEN,
  CKA_PRIVATE: pkcs11js.CKA_PRIVATE,
};

const DESCRIBED_TYPES = [
  pkcs11js.CKA_KEY_TYPE,
  pkcs11js.CKA_VALUE_LEN,
  pkcs11js.CKA_LABEL,
  pkcs11js.CKA_ID,
  ...KEY_ATTRIBUTE_NAMES.map((name) => ATTRIBUTE_TYPES[name]),
];

/** CKA_ID bytes of a hex object id. */
export function keyIdBytes(objectId: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(objectId)) {
    throw new HsmError('KEY_NOT_FOUND', undefined, `object id ${JSON.stringify(objectId)} is not a hex CKA_ID`);
  }
  return Buffer.from(objectId, 'hex');
}

/** Handles of the secret keys with this CKA_ID (at most `max`). */
export function findSecretKeyHandles(lease: SessionLease, objectId: string, max: number): pkcs11js.Handle[] {
  return findKeyHandles(lease, pkcs11js.CKO_SECRET_KEY, objectId, max);
}

/** Handles of the objects of class `objectClass` (CKO_…) with this CKA_ID (at most `max`). */
export function findKeyHandles(lease: SessionLease, objectClass: number, objectId: string, max: number): pkcs11js.Handle[] {
  const { pkcs11, session } = lease;
  const template = findTemplate(objectClass, objectId);
  lease.call('C_FindObjectsInit', () => pkcs11.C_FindObjectsInit(session, template));
  try {
    return lease.call('C_FindObjects', () => pkcs11.C_FindObjects(session, max));
  } finally {
    try {
      pkcs11.C_FindObjectsFinal(session);
    } catch {
      // The find already failed; its error is the one reported.
    }
  }
}

/** What C_FindObjectsInit is given to find the objects of class `objectClass` with this CKA_ID. */
export function findTemplate(objectClass: number, objectId: string): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: objectClass },
    { type: pkcs11js.CKA_ID, value: keyIdBytes(objectId) },
  ];
}

/** The first secret key with this CKA_ID, with its attributes; undefined when there is none. */
export function findSecretKey(lease: SessionLease, objectId: string): CachedKey | undefined {
  const [handle] = findSecretKeyHandles(lease, objectId, 1);
  return handle && { handle, info: readKeyInfo(lease, handle) };
}

/** Reads the key's attributes from the HSM. Attributes the HSM does not report count as false. */
export function readKeyInfo(lease: SessionLease, handle: pkcs11js.Handle): HsmKeyInfo {
  const values = readAttributes(lease, handle);
  const attributes = Object.fromEntries(
    KEY_ATTRIBUTE_NAMES.map((name) => [name, readBoolean(values.get(ATTRIBUTE_TYPES[name]))]),
  ) as Record<KeyAttributeName, boolean>;
  const keyType = values.get(pkcs11js.CKA_KEY_TYPE);
  const valueLength = values.get(pkcs11js.CKA_VALUE_LEN);
  return {
    objectId: values.get(pkcs11js.CKA_ID)?.toString('hex') ?? '',
    label: values.get(pkcs11js.CKA_LABEL)?.toString('utf8') ?? '',
    keyType: keyType && readUlong(keyType) === pkcs11js.CKK_AES ? 'AES' : 'OTHER',
    sizeBits: valueLength ? readUlong(valueLength) * 8 : 0,
    attributes,
  };
}

function readAttributes(lease: SessionLease, handle: pkcs11js.Handle): Map<number, Buffer | undefined> {
  const { pkcs11, session } = lease;
  try {
    const all = lease.call('C_GetAttributeValue', () =>
      pkcs11.C_GetAttributeValue(session, handle, DESCRIBED_TYPES.map((type) => ({ type }))),
    );
    return new Map(all.map(({ type, value }) => [type, asBuffer(value)]));
  } catch (error) {
    if (!(isError(error, HsmError) && /^CKR_ATTRIBUTE_(TYPE_INVALID|SENSITIVE)$/.test(error.returnCode ?? ''))) throw error;
  }
  // Some HSMs refuse the whole template for one attribute they do not know: read them one by one.
  const values = new Map<number, Buffer | undefined>();
  for (const type of DESCRIBED_TYPES) {
    try {
      values.set(type, asBuffer(pkcs11.C_GetAttributeValue(session, handle, [{ type }])[0]?.value));
    } catch {
      values.set(type, undefined);
    }
  }
  lease.deadline.check('C_GetAttributeValue');
  return values;
}

function asBuffer(value: unknown): Buffer | undefined {
  return Buffer.isBuffer(value) ? value : undefined;
}

function readBoolean(value: Buffer | undefined): boolean {
  return value !== undefined && value.length > 0 && value[0] !== 0;
}

/** CK_ULONG in the platform's byte order (little-endian on the x86-64 and arm64 Lambda hosts). */
function readUlong(value: Buffer): number {
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}

/**
 * The generation template: an AES key of `sizeBits` on the token, with CKA_ID and CKA_LABEL set,
 * each listed boolean as requested and CKA_TOKEN always true (a session key would vanish).
 */
export function aesKeyTemplate(request: GenerateKeyRequest): pkcs11js.Template {
  const attributes: KeyAttributes = { ...request.attributes, CKA_TOKEN: true };
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_ID, value: keyIdBytes(request.objectId) },
    { type: pkcs11js.CKA_LABEL, value: request.label },
    { type: pkcs11js.CKA_VALUE_LEN, value: request.sizeBits / 8 },
    ...KEY_ATTRIBUTE_NAMES.map((name) => ({ type: ATTRIBUTE_TYPES[name], value: attributes[name] === true })),
  ];
}

/** Generates the key inside the HSM (CKM_AES_KEY_GEN) and returns its attributes as read back. */
export async function generateAesKey(lease: SessionLease, request: GenerateKeyRequest): Promise<HsmKeyInfo> {
  const { pkcs11, session } = lease;
  if (findSecretKeyHandles(lease, request.objectId, 1).length > 0) {
    throw new HsmError('DEVICE_ERROR', undefined, `a secret key with CKA_ID ${request.objectId} already exists`);
  }
  const handle = await lease.callAsync('C_GenerateKey', () =>
    pkcs11.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, aesKeyTemplate(request)),
  );
  return readKeyInfo(lease, handle);
}

/** Destroys every secret key with this CKA_ID; none is not an error. */
export function destroySecretKeys(lease: SessionLease, objectId: string): void {
  const { pkcs11, session } = lease;
  for (const handle of findSecretKeyHandles(lease, objectId, 64)) {
    lease.call('C_DestroyObject', () => pkcs11.C_DestroyObject(session, handle));
  }
  lease.forgetKey(objectId);
}
