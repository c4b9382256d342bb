/**
 * The HSM agent service against a real SoftHSM2 token: partition test, key generation with the
 * attributes read back from the HSM, describe, destroy, the deep key check, and encrypt/decrypt
 * through the agent function's wire format (health-check ciphertexts).
 */
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import { createTestToken, type TestToken } from '../../helpers/softhsm';
import { attributes, hsmErrorOf, keyRequest, SOURCE_KEY_ATTRIBUTES } from './fixtures';
import { Logger } from '@aws-lambda-powertools/logger';
import { InvokeCommand, LambdaClient, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { LambdaHsmAgent } from '../../../lambdas/adapters/aws/lambda-hsm-agent';
import { createHsmAgentHandler } from '../../../lambdas/hsm-agent/handler';
import { openHealthCheckCiphertext, sealHealthCheckCiphertext } from '../../../lambdas/core/key-stores/health-check-ciphertext';

const config = pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS });
let token: TestToken;
let agent: Pkcs11HsmAgent;

beforeAll(async () => {
  token = await createTestToken({ prefix: 'agent' });
  agent = new Pkcs11HsmAgent(config, token.secretStore);
});

describe('testPartition', () => {
  it('logs in with the stored PIN and reports ready', async () => {
    await expect(agent.testPartition(token.partition)).resolves.toEqual({ ready: true, message: 'ready' });
  });

  it('reports the PKCS#11 failure name for a wrong PIN, never the PIN', async () => {
    // Arrange: a second view of the same token whose secret holds a wrong PIN.
    const other = await createTestToken({ prefix: 'agent-pin' });
    await other.secretStore.put(other.partition.pinSecretName, 'wrong-pin-123');
    const otherAgent = new Pkcs11HsmAgent(config, other.secretStore);

    // Act
    const result = await otherAgent.testPartition(other.partition);

    // Assert
    expect(result).toEqual({ ready: false, message: 'CKR_PIN_INCORRECT' });
  });

  it('tests the PIN stored now: a PIN changed to a wrong one fails although the partition was logged in', async () => {
    const other = await createTestToken({ prefix: 'agent-chg' });
    const otherAgent = new Pkcs11HsmAgent(config, other.secretStore);
    await expect(otherAgent.testPartition(other.partition)).resolves.toMatchObject({ ready: true });

    await other.secretStore.put(other.partition.pinSecretName, 'changed-and-wrong');
    await expect(otherAgent.testPartition(other.partition)).resolves.toEqual({ ready: false, message: 'CKR_PIN_INCORRECT' });

    await other.secretStore.put(other.partition.pinSecretName, other.pin);
    await expect(otherAgent.testPartition(other.partition)).resolves.toEqual({ ready: true, message: 'ready' });
  });

  it('reports a token label the HSM does not have', async () => {
    const result = await agent.testPartition({ ...token.partition, partitionId: 'ghost', tokenLabel: 'no-such-token' });

    expect(result).toEqual({ ready: false, message: 'token "no-such-token" not found' });
  });

  it('reports a partition whose PIN secret is missing', async () => {
    const result = await agent.testPartition({ ...token.partition, partitionId: 'no-pin', pinSecretName: 'xks-key-manager/hsm-pin/missing' });

    expect(result).toEqual({ ready: false, message: 'no PIN stored for partition "no-pin"' });
  });
});

describe('generateKey', () => {
  it('generates an AES-256 key in the HSM and returns the attributes read back from it', async () => {
    const request = keyRequest(SOURCE_KEY_ATTRIBUTES, 'health-check');

    const info = await agent.generateKey(token.partition, request);

    expect(info).toEqual({
      objectId: request.objectId,
      label: 'health-check',
      keyType: 'AES',
      sizeBits: 256,
      attributes: SOURCE_KEY_ATTRIBUTES,
    });
  });

  it('sets unlisted booleans false and keeps CKA_TOKEN true even when not listed', async () => {
    const request = keyRequest(attributes('CKA_DECRYPT', 'CKA_EXTRACTABLE', 'CKA_MODIFIABLE'));

    const info = await agent.generateKey(token.partition, request);

    expect(info.attributes).toEqual(attributes('CKA_DECRYPT', 'CKA_EXTRACTABLE', 'CKA_MODIFIABLE', 'CKA_TOKEN'));
    // A token object: another agent (another process on AWS) sees it.
    const fresh = new Pkcs11HsmAgent(config, token.secretStore);
    await expect(fresh.describeKey({ partition: token.partition, objectId: request.objectId })).resolves.toEqual(info);
  });

  it('refuses a second key with the same CKA_ID', async () => {
    const request = keyRequest();
    await agent.generateKey(token.partition, request);

    const error = await hsmErrorOf(agent.generateKey(token.partition, { ...request, label: 'again' }));

    expect(error.message).toContain('already exists');
    const info = await agent.describeKey({ partition: token.partition, objectId: request.objectId });
    expect(info?.label).toBe('source-key');
  });
});

describe('describeKey and destroyKey', () => {
  it('describes a key until it is destroyed, then reports none; destroying again is not an error', async () => {
    const request = keyRequest();
    const key = { partition: token.partition, objectId: request.objectId };
    await agent.generateKey(token.partition, request);
    await expect(agent.describeKey(key)).resolves.toMatchObject({ objectId: request.objectId, keyType: 'AES' });

    await agent.destroyKey(key);

    await expect(agent.describeKey(key)).resolves.toBeUndefined();
    await expect(agent.destroyKey(key)).resolves.toBeUndefined();
  });
});

describe('checkKey', () => {
  it('is ready for a key that encrypts and decrypts', async () => {
    const request = keyRequest();
    await agent.generateKey(token.partition, request);

    await expect(agent.checkKey({ partition: token.partition, objectId: request.objectId })).resolves.toEqual({ ready: true, message: 'ready' });
  });

  it('is not ready, with the reason, for a key without CKA_ENCRYPT', async () => {
    const request = keyRequest(attributes('CKA_DECRYPT', 'CKA_SENSITIVE'));
    await agent.generateKey(token.partition, request);

    const result = await agent.checkKey({ partition: token.partition, objectId: request.objectId });

    expect(result).toEqual({ ready: false, message: 'KEY_FUNCTION_NOT_PERMITTED: C_EncryptInit failed: CKR_KEY_FUNCTION_NOT_PERMITTED' });
  });

  it('is not ready for a key that does not exist', async () => {
    const result = await agent.checkKey({ partition: token.partition, objectId: 'deadbeef' });

    expect(result.ready).toBe(false);
    expect(result.message).toMatch(/^KEY_NOT_FOUND: /);
  });
});

describe('encrypt and decrypt through the agent function (LambdaHsmAgent → Lambda entry → SoftHSM2)', () => {
  // The mocked invoke runs the real entry on the JSON payload the client sent, as Lambda would.
  const lambda = mockClient(LambdaClient);
  const logged: string[] = [];
  const logger = new Logger({ serviceName: 'hsm-agent-test', logFormatter: undefined });
  let client: LambdaHsmAgent;

  beforeEach(() => {
    lambda.reset();
    logged.length = 0;
    jest.spyOn(logger, 'info').mockImplementation((...args: unknown[]) => void logged.push(JSON.stringify(args)));
    const entry = createHsmAgentHandler(() => agent, logger);
    lambda.on(InvokeCommand).callsFake(async ({ Payload: sent }: InvokeCommandInput) => ({
      StatusCode: 200,
      Payload: Buffer.from(JSON.stringify(await entry(JSON.parse(typeof sent === 'string' ? sent : new TextDecoder().decode(sent as Uint8Array))))),
    }));
    client = new LambdaHsmAgent({ functionName: 'agent' }, new LambdaClient({ region: 'us-east-1' }));
  });

  it('seals a key store id with the health-check key and opens it again; another key under the CKA_ID does not open it', async () => {
    // Arrange
    const request = keyRequest();
    await agent.generateKey(token.partition, request);
    const key = { partition: token.partition, objectId: request.objectId };

    // Act
    const ciphertext = await sealHealthCheckCiphertext(client, key, STORE_ID);
    const opened = await openHealthCheckCiphertext(client, key, STORE_ID, ciphertext);
    await agent.destroyKey(key);
    await agent.generateKey(token.partition, request);
    const reopened = await openHealthCheckCiphertext(client, key, STORE_ID, ciphertext);

    // Assert
    expect(Buffer.from(ciphertext, 'base64')).toHaveLength(64);
    expect(opened).toEqual({ ready: true, message: 'ready' });
    expect(reopened).toEqual({ ready: false, message: 'DECRYPT_FAILED: the health-check key no longer decrypts the ciphertext it made' });
    expect(logged.join('\n')).not.toContain(Buffer.from(STORE_ID).toString('base64')); // decrypt results stay out of the log
  });

  it('answers an HSM refusal as HsmError with its reason (a key without CKA_DECRYPT)', async () => {
    const request = keyRequest(attributes('CKA_ENCRYPT', 'CKA_SENSITIVE'));
    await agent.generateKey(token.partition, request);
    const key = { partition: token.partition, objectId: request.objectId };
    const sealed = await client.encrypt(key, Buffer.from('x'), Buffer.alloc(0));

    await expect(client.decrypt(key, sealed, Buffer.alloc(0))).rejects.toMatchObject({ reason: 'KEY_FUNCTION_NOT_PERMITTED' });
  });
});

const STORE_ID = '8f3c6f0e-3c1b-4d0a-9a55-2f8a3b1c0d9e';
