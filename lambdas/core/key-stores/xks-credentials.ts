/**
 * XKS proxy authentication credentials: what AWS KMS signs its requests with (SigV4, service
 * `kms-xks-proxy`). Formats are AWS KMS's (CreateCustomKeyStore, XksProxyAuthenticationCredential):
 *  - access key id: 20–30 characters of `[A-Z2-7]` (RFC 4648 base32 alphabet);
 *  - raw secret access key: 43–64 characters of `[A-Za-z0-9+/=]`.
 * Randomness comes from node:crypto's CSPRNG (no AWS or PKCS#11 dependency). The secret goes to
 * the SecretStore only; DynamoDB holds the access key id and the secret's name.
 */
import { randomBytes } from 'node:crypto';
import { ServiceUnavailableError, isError } from '../errors';
import type { XksCredentialData } from './credential';
import { secretNames } from '../secret-names';
import type { SecretStore } from '../ports/secret-store';

export const ACCESS_KEY_ID_PATTERN = /^[A-Z2-7]{20,30}$/;
export const SECRET_ACCESS_KEY_PATTERN = /^[A-Za-z0-9+/=]{43,64}$/;

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** 15 random bytes = 120 bits = exactly 24 base32 characters, no padding. */
const ACCESS_KEY_ID_BYTES = 15;
/** 33 random bytes = 264 bits = exactly 44 base64 characters, no padding. */
const SECRET_ACCESS_KEY_BYTES = 33;

export interface XksCredentialMaterial {
  readonly accessKeyId: string;
  /** Returned to the caller once; stored only in the SecretStore. */
  readonly secretAccessKey: string;
}

/** The "proxy configuration file" the AWS KMS console accepts when creating or updating an external key store. */
export interface XksProxyConfigurationFile {
  readonly XksProxyUriPath: string;
  readonly XksProxyAuthenticationCredential: {
    readonly AccessKeyId: string;
    readonly RawSecretAccessKey: string;
  };
}

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** A fresh, random credential in the formats AWS KMS accepts. */
export function generateXksCredential(random: (size: number) => Buffer = randomBytes): XksCredentialMaterial {
  return {
    accessKeyId: base32(random(ACCESS_KEY_ID_BYTES)),
    secretAccessKey: random(SECRET_ACCESS_KEY_BYTES).toString('base64'),
  };
}

export function proxyConfigurationFile(uriPath: string, credential: XksCredentialMaterial): XksProxyConfigurationFile {
  return {
    XksProxyUriPath: uriPath,
    XksProxyAuthenticationCredential: { AccessKeyId: credential.accessKeyId, RawSecretAccessKey: credential.secretAccessKey },
  };
}

/** A credential just created: its metadata (for the key store record) and what the caller sees once. */
export interface IssuedXksCredential {
  readonly credential: XksCredentialData;
  readonly response: {
    readonly access_key_id: string;
    /** Shown once, here; afterwards only the SecretStore has it. */
    readonly secret_access_key: string;
    /** Ready to save as JSON and upload in the AWS KMS console. */
    readonly xks_proxy_configuration: XksProxyConfigurationFile;
  };
}

/**
 * Generates a credential and stores its secret under `secretNames.xksCredential(keyStoreId, credentialId)`.
 * Written before the state that refers to it, so that no credential ever exists without its
 * secret; a caller whose state write fails deletes the secret again.
 */
export async function issueXksCredential(
  secrets: SecretStore,
  params: { readonly keyStoreId: string; readonly credentialId: string; readonly version: number; readonly now: string; readonly uriPath: string },
): Promise<IssuedXksCredential> {
  const material = generateXksCredential();
  await secrets.put(secretNames.xksCredential(params.keyStoreId, params.credentialId), material.secretAccessKey);
  return {
    credential: { id: params.credentialId, accessKeyId: material.accessKeyId, version: params.version, createdAt: params.now, updatedAt: params.now },
    response: {
      access_key_id: material.accessKeyId,
      secret_access_key: material.secretAccessKey,
      xks_proxy_configuration: proxyConfigurationFile(params.uriPath, material),
    },
  };
}

/**
 * Removes the secrets of credentials that no key store lists any more (deleted, rotated out, or
 * never committed). Best effort, by design: the XKS proxy only tries the credentials its store
 * lists, so a secret left behind by a failed delete authenticates nothing; and a request whose
 * state change is committed must still answer with its result (a rotation's new secret is shown
 * only once).
 */
export async function discardXksSecrets(secrets: SecretStore, keyStoreId: string, credentialIds: readonly string[]): Promise<void> {
  await Promise.allSettled(credentialIds.map((id) => secrets.delete(secretNames.xksCredential(keyStoreId, id))));
}

/**
 * Whether the state write that was to reference a new secret landed although it failed. Only a
 * failure whose outcome is unknown (the state store's retries ran out after an attempt that may
 * have committed) is checked, by re-reading with `landed`; any other failure did not land. A
 * re-read that fails too rethrows the write's error without deciding, so that the caller keeps the
 * secret: a committed record must never lose its credential, and an unreferenced secret
 * authenticates nothing (removing such leftovers is listed under README "Not built yet").
 */
export async function landedDespite(error: unknown, landed: () => Promise<boolean>): Promise<boolean> {
  if (!isError(error, ServiceUnavailableError) || !error.outcomeUnknown) return false;
  try {
    return await landed();
  } catch {
    throw error;
  }
}
