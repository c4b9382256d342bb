/** Choosing the HYOK key version an operation runs with. */
import type { XksKeyVersionView, XksKeyView } from '../../core/ports/xks-state-source';
import { XksError } from '../errors';

/** The version new encryptions use. A key whose current version is missing is broken state, not bad input. */
export function currentVersion(key: XksKeyView): XksKeyVersionView {
  const version = key.versions.find((candidate) => candidate.version === key.currentVersion);
  if (!version) {
    throw new XksError('InternalException', 'The external key has no usable version', {
      cause: new Error(`key ${key.externalKeyId} has no version ${key.currentVersion}`),
    });
  }
  return version;
}

/**
 * The version a ciphertext names; one the key does not have means the ciphertext is not for this
 * key. A version past its expiry (set when a key rotation job replaced it) no longer decrypts.
 */
export function versionForDecrypt(key: XksKeyView, keyVersion: number, now = Date.now()): XksKeyVersionView {
  const version = key.versions.find((candidate) => candidate.version === keyVersion);
  if (!version) {
    throw new XksError('InvalidCiphertextException', 'The ciphertext was not produced by a version of this external key', {
      cause: new Error(`key ${key.externalKeyId} has no version ${keyVersion}`),
    });
  }
  if (version.expiresAt !== undefined && Date.parse(version.expiresAt) <= now) {
    throw new XksError('InvalidStateException', 'The external key version of this ciphertext has expired');
  }
  return version;
}

export function rejectIfBlocked(key: XksKeyView): void {
  if (key.blocked) throw new XksError('InvalidStateException', 'The external key is blocked');
}
