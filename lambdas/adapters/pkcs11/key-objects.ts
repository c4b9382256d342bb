/**
 * AES key objects in a partition: found by CKA_ID among CKO_SECRET_KEY objects, described from
 * the attributes the HSM reports, generated inside the HSM. Every call here goes where the
 * partition runs its session calls (SessionLease.sessionCall: worker threads on network HSMs).
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

/** Handles of the objects of class `objectClass` (CKO_…) with this CKA_ID (at most `max`). */
export function findKeyHandles(lease: SessionLease, objectClass: number, objectId: string, max: number): Promise<pkcs11js.Handle[]> {
  const template: pkcs11js.Template = [
    { type: pkcs11js.CKA_CLASS, value: objectClass },
    { type: pkcs11js.CKA_ID, value: keyIdBytes(objectId) },
  ];
  return lease.sessionCall('C_FindObjects', lease.session, template, max);
}

/** The first secret key with this CKA_ID, with its attributes; undefined when there is none. */
export async function findSecretKey(lease: SessionLease, objectId: string): Promise<CachedKey | undefined> {
  const [handle] = await findKeyHandles(lease, pkcs11js.CKO_SECRET_KEY, objectId, 1);
  return handle && { handle, info: await readKeyInfo(lease, handle) };
}

/** Reads the key's attributes from the HSM. Attributes the HSM does not report count as false. */
export async function readKeyInfo(lease: SessionLease, handle: pkcs11js.Handle): Promise<HsmKeyInfo> {
  const values = await readAttributes(lease, handle);
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

async function readAttributes(lease: SessionLease, handle: pkcs11js.Handle): Promise<Map<number, Buffer | undefined>> {
  const { session } = lease;
  try {
    const all = await lease.sessionCall('C_GetAttributeValue', session, handle, DESCRIBED_TYPES.map((type) => ({ type })));
    return new Map(all.map(({ type, value }) => [type, asBuffer(value)]));
  } catch (error) {
    if (!(isError(error, HsmError) && /^CKR_ATTRIBUTE_(TYPE_INVALID|SENSITIVE)$/.test(error.returnCode ?? ''))) throw error;
  }
  // Some HSMs refuse the whole template for one attribute they do not know: read them one by one.
  const values = new Map<number, Buffer | undefined>();
  for (const type of DESCRIBED_TYPES) {
    try {
      values.set(type, asBuffer((await lease.sessionCall('C_GetAttributeValue', session, handle, [{ type }]))[0]?.value));
    } catch (error) {
      // An attribute the HSM refuses counts as unreported; a call it never answered ends the read.
      if (!(isError(error, HsmError) && error.returnCode !== undefined)) throw error;
      values.set(type, undefined);
    }
  }
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

/**
 * Generates the key inside the HSM (CKM_AES_KEY_GEN) and returns its attributes as read back. The
 * caller has made sure no key has the CKA_ID yet (typed-key-objects.ts generateKeyObject).
 */
export async function generateAesKey(lease: SessionLease, request: GenerateKeyRequest): Promise<HsmKeyInfo> {
  const { pkcs11, session } = lease;
  const handle = await lease.callAsync('C_GenerateKey', () =>
    pkcs11.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, aesKeyTemplate(request)),
  );
  return readKeyInfo(lease, handle);
}

