import { Logger } from '@aws-lambda-powertools/logger';
import { HsmError } from '../../../lambdas/core/ports/hsm';
import { createHsmAgentHandler } from '../../../lambdas/hsm-agent/handler';
import { fakeHsmAgent, generateRequest, keyInfo, keyRef, partition } from './fake-hsm-agent';

const silentLogger = (): Logger => new Logger({ serviceName: 'hsm-agent-test', logLevel: 'SILENT' });

describe('HSM agent Lambda entry', () => {
  it('dispatches each operation to the agent with its arguments and answers ok with the result', async () => {
    // Arrange
    const agent = fakeHsmAgent();
    agent.generateKey.mockResolvedValue(keyInfo);
    agent.testPartition.mockResolvedValue({ ready: true, message: 'ready' });
    const handler = createHsmAgentHandler(() => agent, silentLogger());

    // Act
    const generated = await handler({ operation: 'generateKey', args: [partition, generateRequest] });
    const tested = await handler({ operation: 'testPartition', args: [partition] });

    // Assert
    expect(generated).toEqual({ ok: true, result: keyInfo });
    expect(agent.generateKey).toHaveBeenCalledWith(partition, { ...generateRequest, keyType: 'AES' });
    expect(tested).toEqual({ ok: true, result: { ready: true, message: 'ready' } });
  });

  it('encrypt and decrypt: Base64 on the wire, Buffers at the agent', async () => {
    const agent = fakeHsmAgent();
    agent.encrypt.mockResolvedValue({ iv: Buffer.alloc(12, 1), ciphertext: Buffer.from('ct'), tag: Buffer.alloc(16, 2) });
    agent.decrypt.mockResolvedValue(Buffer.from('plain'));
    const handler = createHsmAgentHandler(() => agent, silentLogger());
    const b64 = (text: string) => Buffer.from(text).toString('base64');

    const sealed = await handler({ operation: 'encrypt', args: [keyRef, { plaintext: b64('plain'), aad: b64('aad') }] });
    const opened = await handler({ operation: 'decrypt', args: [keyRef, { iv: b64('iv'), ciphertext: b64('ct'), tag: b64('tag'), aad: b64('aad') }] });

    expect(agent.encrypt).toHaveBeenCalledWith(keyRef, Buffer.from('plain'), Buffer.from('aad'));
    expect(sealed).toEqual({ ok: true, result: { iv: Buffer.alloc(12, 1).toString('base64'), ciphertext: b64('ct'), tag: Buffer.alloc(16, 2).toString('base64') } });
    expect(agent.decrypt).toHaveBeenCalledWith(keyRef, { iv: Buffer.from('iv'), ciphertext: Buffer.from('ct'), tag: Buffer.from('tag') }, Buffer.from('aad'));
    expect(opened).toEqual({ ok: true, result: { plaintext: b64('plain') } });
  });

  it('answers result null when the agent returns nothing (missing key, destroy)', async () => {
    const agent = fakeHsmAgent();
    agent.describeKey.mockResolvedValue(undefined);
    agent.destroyKey.mockResolvedValue(undefined);
    const handler = createHsmAgentHandler(() => agent, silentLogger());

    await expect(handler({ operation: 'describeKey', args: [keyRef] })).resolves.toEqual({ ok: true, result: null });
    await expect(handler({ operation: 'destroyKey', args: [keyRef] })).resolves.toEqual({ ok: true, result: null });
    expect(agent.destroyKey).toHaveBeenCalledWith(keyRef);
  });

  it('turns an HsmError into ok:false with its reason, return code and message', async () => {
    const agent = fakeHsmAgent();
    agent.checkKey.mockRejectedValue(new HsmError('TOKEN_NOT_FOUND', 'CKR_TOKEN_NOT_PRESENT', 'C_OpenSession failed: CKR_TOKEN_NOT_PRESENT'));
    const handler = createHsmAgentHandler(() => agent, silentLogger());

    await expect(handler({ operation: 'checkKey', args: [keyRef] })).resolves.toEqual({
      ok: false,
      reason: 'TOKEN_NOT_FOUND',
      returnCode: 'CKR_TOKEN_NOT_PRESENT',
      message: 'C_OpenSession failed: CKR_TOKEN_NOT_PRESENT',
    });
  });

  it('lets errors that are not HsmErrors fail the invocation', async () => {
    const agent = fakeHsmAgent();
    agent.describeKey.mockRejectedValue(new TypeError('bug'));
    const handler = createHsmAgentHandler(() => agent, silentLogger());

    await expect(handler({ operation: 'describeKey', args: [keyRef] })).rejects.toThrow('bug');
  });

  it.each([
    ['a payload that is not an object', 'hello', 'payload must be an object'],
    ['an unknown operation', { operation: 'exportKey', args: [keyRef] }, 'payload.operation must be one of'],
    ['missing args', { operation: 'describeKey' }, 'payload.args must be an array of 1 argument(s)'],
    ['too many args', { operation: 'describeKey', args: [keyRef, keyRef] }, 'payload.args must be an array of 1'],
    ['a bad hsm type', { operation: 'testPartition', args: [{ ...partition, hsmType: 'nshield' }] }, 'payload.args[0].hsmType must be one of'],
    ['an empty token label', { operation: 'testPartition', args: [{ ...partition, tokenLabel: '' }] }, 'payload.args[0].tokenLabel'],
    ['an unknown call mode', { operation: 'testPartition', args: [{ ...partition, pkcs11CallMode: 'threads' }] }, 'payload.args[0].pkcs11CallMode must be one of inline, worker-thread'],
    ['an object id that is not hex', { operation: 'destroyKey', args: [{ ...keyRef, objectId: 'xyz' }] }, 'payload.args[0].objectId'],
    ['an AES key size other than 256', { operation: 'generateKey', args: [partition, { ...generateRequest, sizeBits: 128 }] }, 'payload.args[1].sizeBits must be one of 256'],
    ['an RSA size AWS KMS does not take', { operation: 'generateKey', args: [partition, { ...generateRequest, keyType: 'RSA', sizeBits: 1024 }] }, 'payload.args[1].sizeBits must be one of 2048, 3072, 4096'],
    ['an EC key without a curve', { operation: 'generateKey', args: [partition, { ...generateRequest, keyType: 'EC', sizeBits: 256 }] }, 'payload.args[1].curve must be one of P-256'],
    ['an unknown key type', { operation: 'generateKey', args: [partition, { ...generateRequest, keyType: 'DSA' }] }, 'payload.args[1].keyType must be one of AES, RSA, EC, GENERIC_SECRET'],
    ['an unknown wrapping algorithm', { operation: 'wrapKeyForImport', args: [keyRef, { wrappingPublicKey: 'AAAA', algorithm: 'RSAES_PKCS1_V1_5' }] }, 'payload.args[1].algorithm must be one of RSAES_OAEP_SHA_1'],
    ['a wrapping key that is not base64', { operation: 'wrapKeyForImport', args: [keyRef, { wrappingPublicKey: 'not base64!', algorithm: 'RSAES_OAEP_SHA_1' }] }, 'payload.args[1].wrappingPublicKey must be a base64 string'],
    ['an unknown HMAC algorithm', { operation: 'signHmac', args: [keyRef, { message: 'AAAA', algorithm: 'HMAC_MD5' }] }, 'payload.args[1].algorithm must be one of HMAC_SHA_224'],
    ['plaintext that is not Base64', { operation: 'encrypt', args: [keyRef, { plaintext: 'not base64!', aad: '' }] }, 'payload.args[1].plaintext must be Base64'],
    ['a decrypt without its tag', { operation: 'decrypt', args: [keyRef, { iv: 'AAAA', ciphertext: '', aad: '' }] }, 'payload.args[1].tag must be Base64'],
    [
      'a missing attribute',
      { operation: 'generateKey', args: [partition, { ...generateRequest, attributes: { CKA_ENCRYPT: true } }] },
      'payload.args[1].attributes.CKA_DECRYPT must be a boolean',
    ],
  ])('refuses %s without calling the agent, naming the field', async (_case, payload, message) => {
    const agent = fakeHsmAgent();
    const handler = createHsmAgentHandler(() => agent, silentLogger());

    const response = await handler(payload);

    expect(response).toMatchObject({ ok: false, reason: 'DEVICE_ERROR', returnCode: null });
    expect(response.ok === false && response.message).toContain(message);
    for (const method of Object.values(agent)) expect(method).not.toHaveBeenCalled();
  });

  it('dispatches wrapKeyForImport and signHmac, and logs neither result', async () => {
    // Arrange
    const agent = fakeHsmAgent();
    agent.wrapKeyForImport.mockResolvedValue({ encryptedKeyMaterial: 'd3JhcHBlZA==' });
    agent.signHmac.mockResolvedValue({ mac: 'bWFj' });
    const logger = silentLogger();
    const info = jest.spyOn(logger, 'info');
    const handler = createHsmAgentHandler(() => agent, logger);
    const wrapRequest = { wrappingPublicKey: 'AAAA', algorithm: 'RSA_AES_KEY_WRAP_SHA_256' };
    // Act
    const wrapped = await handler({ operation: 'wrapKeyForImport', args: [keyRef, wrapRequest] });
    const signed = await handler({ operation: 'signHmac', args: [keyRef, { message: 'bWVzc2FnZQ==', algorithm: 'HMAC_SHA_256' }] });
    // Assert
    expect(wrapped).toEqual({ ok: true, result: { encryptedKeyMaterial: 'd3JhcHBlZA==' } });
    expect(signed).toEqual({ ok: true, result: { mac: 'bWFj' } });
    expect(agent.wrapKeyForImport).toHaveBeenCalledWith(keyRef, wrapRequest);
    expect(JSON.stringify(info.mock.calls)).not.toMatch(/d3JhcHBlZA|bWFj/);
  });

  it('passes only the known fields of a partition to the agent', async () => {
    const agent = fakeHsmAgent();
    agent.testPartition.mockResolvedValue({ ready: true, message: 'ready' });
    const handler = createHsmAgentHandler(() => agent, silentLogger());

    await handler({ operation: 'testPartition', args: [{ ...partition, pin: 'never-passed' }] });
    await handler({ operation: 'testPartition', args: [{ ...partition, pkcs11CallMode: 'inline' }] });

    expect(agent.testPartition.mock.calls).toEqual([[partition], [{ ...partition, pkcs11CallMode: 'inline' }]]);
  });
});
