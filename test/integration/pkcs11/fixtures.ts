/** Shared by the PKCS#11 integration suites: attribute sets, keys generated in a test token, an HsmError catcher. */
import { randomBytes } from 'node:crypto';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { HsmError } from '../../../lambdas/core/ports/hsm';
import {
  KEY_ATTRIBUTE_NAMES,
  type GenerateKeyRequest,
  type HsmKeyRef,
  type KeyAttributeName,
  type KeyAttributes,
} from '../../../lambdas/contract/hsm';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import type { TestToken } from '../../helpers/softhsm';

/** The listed attributes true, every other one false (as the control plane sends them). */
export function attributes(...listed: KeyAttributeName[]): KeyAttributes {
  return Object.fromEntries(KEY_ATTRIBUTE_NAMES.map((name) => [name, listed.includes(name)])) as Record<KeyAttributeName, boolean>;
}

/** What the issue calls a health-check key: encrypt, decrypt, wrap, unwrap, sensitive, not extractable. */
export const SOURCE_KEY_ATTRIBUTES = attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE', 'CKA_TOKEN', 'CKA_PRIVATE');

export function keyRequest(keyAttributes: KeyAttributes = SOURCE_KEY_ATTRIBUTES, label = 'source-key'): GenerateKeyRequest {
  return { objectId: randomBytes(16).toString('hex'), label, sizeBits: 256, attributes: keyAttributes };
}

/** An HSM agent on the token, with the agent's own budget (as the control plane uses it). */
export function agentFor(token: TestToken): Pkcs11HsmAgent {
  return new Pkcs11HsmAgent(pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), token.secretStore);
}

/** Generates the key of `request` in the token through the agent; returns the proxy's reference to it. */
export async function generatedKey(token: TestToken, agent: Pkcs11HsmAgent = agentFor(token), request: GenerateKeyRequest = keyRequest()): Promise<HsmKeyRef> {
  await agent.generateKey(token.partition, request);
  return { partition: token.partition, objectId: request.objectId };
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
