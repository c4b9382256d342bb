/**
 * Nothing secret reaches a log: the HSM agent's Lambda entry (Powertools logger at DEBUG) and
 * every HsmError the adapter raises, through successes and failures, never contain a PIN, key
 * bytes or plaintext.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { inspect } from 'node:util';
import * as pkcs11js from 'pkcs11js';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11KeyCrypto } from '../../../lambdas/adapters/pkcs11/key-crypto';
import { Pkcs11Partitions } from '../../../lambdas/adapters/pkcs11/partitions';
import type { HsmKeyRef } from '../../../lambdas/contract/hsm';
import { createHsmAgentHandler } from '../../../lambdas/hsm-agent/handler';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import { createTestToken, makeTokenUnavailable } from '../../helpers/softhsm';
import { attributes, keyRequest } from './fixtures';

/** Every form a secret could take in a log line. */
const forms = (secret: Buffer): string[] => [secret.toString('hex'), secret.toString('base64'), secret.toString('latin1')];

it('keeps PINs, key bytes and plaintext out of the agent logs and of HsmErrors', async () => {
  // Arrange: capture everything written to stdout/stderr.
  const written: string[] = [];
  const capture = (chunk: unknown): boolean => {
    written.push(String(chunk));
    return true;
  };
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  const errors: unknown[] = [];
  const collect = (call: Promise<unknown>): Promise<unknown> => call.catch((error: unknown) => errors.push(error));

  const token = await createTestToken({ prefix: 'logs' });
  const wrongPin = 'wrong-pin-7b1d0c';
  const config = pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS });
  const agent = new Pkcs11HsmAgent(config, token.secretStore);
  const handler = createHsmAgentHandler(() => agent, new Logger({ serviceName: 'hsm-agent', logLevel: 'DEBUG' }));
  const plaintext = Buffer.from('plaintext-8f3e2a91c4');
  let keyBytes: Buffer = Buffer.alloc(0);

  try {
    // Act: successes and failures of every kind, through the entry and through KeyCrypto.
    const request = keyRequest(attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_EXTRACTABLE'));
    const key: HsmKeyRef = { partition: token.partition, objectId: request.objectId };
    await handler({ operation: 'testPartition', args: [token.partition] });
    await handler({ operation: 'generateKey', args: [token.partition, request] });
    await handler({ operation: 'checkKey', args: [key] });
    await handler({ operation: 'describeKey', args: [key] });
    keyBytes = await new Pkcs11Partitions(config, token.secretStore).run(token.partition, async (lease) => {
      const handle = (await lease.key(key.objectId))?.handle as pkcs11js.Handle;
      return lease.pkcs11.C_GetAttributeValue(lease.session, handle, [{ type: pkcs11js.CKA_VALUE }])[0].value as Buffer;
    });
    const crypto = new Pkcs11KeyCrypto(config, token.secretStore);
    const sealed = await crypto.encrypt(key, plaintext, Buffer.from('aad'));
    await collect(crypto.decrypt(key, { ...sealed, tag: Buffer.alloc(16) }, Buffer.from('aad')));
    await collect(crypto.encrypt({ ...key, objectId: '00' }, plaintext, Buffer.from('aad')));

    const restore = makeTokenUnavailable(token.partition.tokenLabel);
    try {
      await handler({ operation: 'checkKey', args: [key] });
      await handler({ operation: 'describeKey', args: [key] });
      await collect(crypto.encrypt(key, plaintext, Buffer.from('aad')));
    } finally {
      restore();
    }

    await token.secretStore.put(token.partition.pinSecretName, wrongPin);
    await handler({ operation: 'testPartition', args: [token.partition] });
    await collect(new Pkcs11KeyCrypto(config, token.secretStore).encrypt(key, plaintext, Buffer.from('aad')));
    await handler({ operation: 'describeKey', args: [{ partition: { ...token.partition, pin: token.pin } }] });
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }

  // Assert: the capture saw the agent's lines (so it would see a leak) and the errors happened …
  const logs = written.join('\n');
  expect(logs).toContain('HSM agent request failed');
  expect(logs).toContain('CKR_PIN_INCORRECT');
  expect(errors.map((error) => (error as { reason: string }).reason).sort()).toEqual(
    ['DECRYPT_FAILED', 'KEY_NOT_FOUND', 'LOGIN_FAILED', 'TOKEN_NOT_FOUND'].sort(),
  );
  expect(keyBytes).toHaveLength(32);
  // … and none of them carries a secret, not even in the causes.
  const everything = [logs, ...errors.map((error) => inspect(error, { depth: 10 }))].join('\n');
  for (const secret of [token.pin, token.soPin, wrongPin, ...forms(plaintext), ...forms(keyBytes)]) {
    expect(everything).not.toContain(secret);
  }
});
