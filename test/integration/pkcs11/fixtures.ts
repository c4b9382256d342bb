/** Shared by the PKCS#11 integration suites: attribute sets and an HsmError catcher. */
import { randomBytes } from 'node:crypto';
import { HsmError, KEY_ATTRIBUTE_NAMES, type GenerateKeyRequest, type KeyAttributeName, type KeyAttributes } from '../../../lambdas/core/hsm';

/** The listed attributes true, every other one false (as the control plane sends them). */
export function attributes(...listed: KeyAttributeName[]): KeyAttributes {
  return Object.fromEntries(KEY_ATTRIBUTE_NAMES.map((name) => [name, listed.includes(name)])) as Record<KeyAttributeName, boolean>;
}

/** What the issue calls a health-check key: encrypt, decrypt, wrap, unwrap, sensitive, not extractable. */
export const SOURCE_KEY_ATTRIBUTES = attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE', 'CKA_TOKEN', 'CKA_PRIVATE');

export function keyRequest(keyAttributes: KeyAttributes = SOURCE_KEY_ATTRIBUTES, label = 'source-key'): GenerateKeyRequest {
  return { objectId: randomBytes(16).toString('hex'), label, sizeBits: 256, attributes: keyAttributes };
}

/** The HsmError a call failed with (fails the test when it did not fail with one). */
export async function hsmErrorOf(call: Promise<unknown>): Promise<HsmError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HsmError);
  return error as HsmError;
}
