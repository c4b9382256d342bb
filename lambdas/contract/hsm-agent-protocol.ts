/**
 * The HSM agent's invoke protocol, shared by its Lambda entry (hsm-agent/handler.ts) and the
 * control plane's client (adapters/aws/lambda-hsm-agent.ts). Plain data and checks, no PKCS#11.
 *
 * Request:  `{ operation, args }`, `args` being the HsmAgent method's arguments in order.
 * Response: `{ ok: true, result }` (`result` null for "none"), or
 *           `{ ok: false, reason, returnCode, message }` describing an HsmError.
 */
import {
  GCM_IV_CONVENTIONS,
  HSM_TYPES,
  KEY_ATTRIBUTE_NAMES,
  PKCS11_CALL_MODES,
  type GenerateKeyRequest,
  type HsmFailureReason,
  type HsmKeyRef,
  type PartitionConnection,
} from './hsm';
import { signHmacRequest, typedKeyFields, wrapForImportRequest } from './hsm-key-checks';
import type { SignHmacRequest, WrapForImportRequest } from './hsm-key-types';
import { type Check, fail, record, text } from './protocol-checks';

export { HsmAgentRequestError } from './protocol-checks';

export type HsmAgentRequest =
  | { readonly operation: 'testPartition'; readonly args: [PartitionConnection] }
  | { readonly operation: 'generateKey'; readonly args: [PartitionConnection, GenerateKeyRequest] }
  | { readonly operation: 'describeKey'; readonly args: [HsmKeyRef] }
  | { readonly operation: 'destroyKey'; readonly args: [HsmKeyRef] }
  | { readonly operation: 'checkKey'; readonly args: [HsmKeyRef] }
  | { readonly operation: 'wrapKeyForImport'; readonly args: [HsmKeyRef, WrapForImportRequest] }
  | { readonly operation: 'signHmac'; readonly args: [HsmKeyRef, SignHmacRequest] }
  | { readonly operation: 'encrypt'; readonly args: [HsmKeyRef, GcmEncryptArgs] }
  | { readonly operation: 'decrypt'; readonly args: [HsmKeyRef, GcmDecryptArgs] };

/**
 * AES-256-GCM through the agent, Base64 on the wire: `encrypt` answers `{iv, ciphertext, tag}`,
 * `decrypt` answers `{plaintext}`. The control plane uses them for key stores' health-check
 * ciphertexts only (KMS data never reaches the agent).
 */
export interface GcmEncryptArgs {
  readonly plaintext: string;
  readonly aad: string;
}

export interface GcmSealedWire {
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

export interface GcmDecryptArgs extends GcmSealedWire {
  readonly aad: string;
}

export type HsmAgentOperation = HsmAgentRequest['operation'];

export type HsmAgentResponse =
  | { readonly ok: true; readonly result: unknown }
  | {
      readonly ok: false;
      readonly reason: HsmFailureReason;
      readonly returnCode: string | null;
      readonly message: string;
    };

/** Every HsmFailureReason (a Record, so that a new reason cannot be forgotten here). */
const FAILURE_REASONS: Readonly<Record<HsmFailureReason, true>> = {
  KEY_NOT_FOUND: true,
  KEY_FUNCTION_NOT_PERMITTED: true,
  DECRYPT_FAILED: true,
  TOKEN_NOT_FOUND: true,
  LOGIN_FAILED: true,
  TIMEOUT: true,
  DEVICE_ERROR: true,
};

export function isHsmFailureReason(value: unknown): value is HsmFailureReason {
  return typeof value === 'string' && Object.hasOwn(FAILURE_REASONS, value);
}

const hex: Check<string> = (value, path) =>
  typeof value === 'string' && /^(?:[0-9a-fA-F]{2}){1,128}$/.test(value) ? value : fail(path, 'a hex string of 1 to 128 bytes');

export const partitionConnection: Check<PartitionConnection> = (value, path) => {
  const fields = record(value, path);
  const hsmType = fields.hsmType;
  if (!HSM_TYPES.includes(hsmType as PartitionConnection['hsmType'])) fail(`${path}.hsmType`, `one of ${HSM_TYPES.join(', ')}`);
  const convention = fields.gcmIvConvention;
  if (convention !== undefined && !GCM_IV_CONVENTIONS.includes(convention as never)) fail(`${path}.gcmIvConvention`, `one of ${GCM_IV_CONVENTIONS.join(', ')}`);
  const callMode = fields.pkcs11CallMode;
  if (callMode !== undefined && !PKCS11_CALL_MODES.includes(callMode as never)) fail(`${path}.pkcs11CallMode`, `one of ${PKCS11_CALL_MODES.join(', ')}`);
  return {
    partitionId: text(fields.partitionId, `${path}.partitionId`),
    hsmType: hsmType as PartitionConnection['hsmType'],
    tokenLabel: text(fields.tokenLabel, `${path}.tokenLabel`),
    pinSecretName: text(fields.pinSecretName, `${path}.pinSecretName`),
    ...(convention === undefined ? {} : { gcmIvConvention: convention as PartitionConnection['gcmIvConvention'] }),
    ...(callMode === undefined ? {} : { pkcs11CallMode: callMode as PartitionConnection['pkcs11CallMode'] }),
  };
};

const keyRef: Check<HsmKeyRef> = (value, path) => {
  const fields = record(value, path);
  return { partition: partitionConnection(fields.partition, `${path}.partition`), objectId: hex(fields.objectId, `${path}.objectId`) };
};

/** At most 8 KiB of Base64, like the proxy's own plaintext limit. */
const base64: Check<string> = (value, path) =>
  typeof value === 'string' && value.length <= 11_000 && /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0
    ? value
    : fail(path, 'Base64 of at most 8 KiB');

const gcmEncryptArgs: Check<GcmEncryptArgs> = (value, path) => {
  const fields = record(value, path);
  return { plaintext: base64(fields.plaintext, `${path}.plaintext`), aad: base64(fields.aad, `${path}.aad`) };
};

const gcmDecryptArgs: Check<GcmDecryptArgs> = (value, path) => {
  const fields = record(value, path);
  return {
    iv: base64(fields.iv, `${path}.iv`),
    ciphertext: base64(fields.ciphertext, `${path}.ciphertext`),
    tag: base64(fields.tag, `${path}.tag`),
    aad: base64(fields.aad, `${path}.aad`),
  };
};

const generateKeyRequest: Check<GenerateKeyRequest> = (value, path) => {
  const fields = record(value, path);
  const typed = typedKeyFields(fields, path);
  const attributes = record(fields.attributes, `${path}.attributes`);
  for (const name of KEY_ATTRIBUTE_NAMES) {
    if (typeof attributes[name] !== 'boolean') fail(`${path}.attributes.${name}`, 'a boolean');
  }
  return {
    objectId: hex(fields.objectId, `${path}.objectId`),
    label: text(fields.label, `${path}.label`),
    ...typed,
    attributes: Object.fromEntries(KEY_ATTRIBUTE_NAMES.map((name) => [name, attributes[name]])) as GenerateKeyRequest['attributes'],
  };
};

const ARGUMENTS: { readonly [O in HsmAgentOperation]: readonly Check<unknown>[] } = {
  testPartition: [partitionConnection],
  generateKey: [partitionConnection, generateKeyRequest],
  describeKey: [keyRef],
  destroyKey: [keyRef],
  checkKey: [keyRef],
  wrapKeyForImport: [keyRef, wrapForImportRequest],
  signHmac: [keyRef, signHmacRequest],
  encrypt: [keyRef, gcmEncryptArgs],
  decrypt: [keyRef, gcmDecryptArgs],
};

/** Checks an invoke payload; throws HsmAgentRequestError naming the first bad field. */
export function parseHsmAgentRequest(payload: unknown): HsmAgentRequest {
  const fields = record(payload, 'payload');
  const operation = fields.operation;
  if (typeof operation !== 'string' || !Object.hasOwn(ARGUMENTS, operation)) {
    fail('payload.operation', `one of ${Object.keys(ARGUMENTS).join(', ')}`);
  }
  const checks = ARGUMENTS[operation as HsmAgentOperation];
  const args = fields.args;
  if (!Array.isArray(args) || args.length !== checks.length) fail('payload.args', `an array of ${checks.length} argument(s)`);
  const parsed = (args as unknown[]).map((arg, index) => checks[index](arg, `payload.args[${index}]`));
  return { operation, args: parsed } as HsmAgentRequest;
}
