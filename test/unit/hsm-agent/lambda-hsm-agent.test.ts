import { Logger } from '@aws-lambda-powertools/logger';
import { InvokeCommand, LambdaClient, type InvokeCommandInput, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { LambdaHsmAgent } from '../../../lambdas/adapters/aws/lambda-hsm-agent';
import { HsmError } from '../../../lambdas/core/ports/hsm';
import { createHsmAgentHandler } from '../../../lambdas/hsm-agent/handler';
import { fakeHsmAgent, generateRequest, keyInfo, keyRef, partition } from './fake-hsm-agent';

const lambda = mockClient(LambdaClient);
const FUNCTION_NAME = 'xks-key-manager-hsm-agent';
type Payload = InvokeCommandOutput['Payload'];
/** The SDK wraps response bytes in a blob adapter; the client only reads them as bytes. */
const bytes = (text: string): Payload => Buffer.from(text) as unknown as Payload;
const payload = (value: unknown): Payload => bytes(JSON.stringify(value));
const sentPayload = ({ Payload: sent }: InvokeCommandInput): unknown =>
  JSON.parse(typeof sent === 'string' ? sent : new TextDecoder().decode(sent as Uint8Array));

let agent: LambdaHsmAgent;

beforeEach(() => {
  lambda.reset();
  agent = new LambdaHsmAgent({ functionName: FUNCTION_NAME }, new LambdaClient({ region: 'us-east-1' }));
});

async function hsmErrorOf(call: Promise<unknown>): Promise<HsmError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HsmError);
  return error as HsmError;
}

describe('LambdaHsmAgent', () => {
  it('invokes the configured function synchronously with {operation, args} and returns the result', async () => {
    // Arrange
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ ok: true, result: keyInfo }) });

    // Act
    const info = await agent.generateKey(partition, generateRequest);

    // Assert
    expect(info).toEqual(keyInfo);
    const [call] = lambda.commandCalls(InvokeCommand);
    expect(call.args[0].input).toMatchObject({ FunctionName: FUNCTION_NAME, InvocationType: 'RequestResponse' });
    expect(sentPayload(call.args[0].input)).toEqual({ operation: 'generateKey', args: [partition, generateRequest] });
  });

  it('answers undefined for a key the agent did not find (result null)', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ ok: true, result: null }) });

    await expect(agent.describeKey(keyRef)).resolves.toBeUndefined();
  });

  it('re-throws an agent failure as HsmError with the same reason and return code', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ ok: false, reason: 'LOGIN_FAILED', returnCode: 'CKR_PIN_INCORRECT', message: 'C_Login failed: CKR_PIN_INCORRECT' }),
    });

    const error = await hsmErrorOf(agent.destroyKey(keyRef));

    expect(error).toMatchObject({ reason: 'LOGIN_FAILED', returnCode: 'CKR_PIN_INCORRECT', message: 'C_Login failed: CKR_PIN_INCORRECT' });
  });

  it('maps a null return code to undefined', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ ok: false, reason: 'TOKEN_NOT_FOUND', returnCode: null, message: 'token "t" not found' }),
    });

    const error = await hsmErrorOf(agent.checkKey(keyRef));

    expect(error.reason).toBe('TOKEN_NOT_FOUND');
    expect(error.returnCode).toBeUndefined();
  });

  it('reports a Lambda timeout of the agent as TIMEOUT', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 30.03 seconds' }),
    });

    expect((await hsmErrorOf(agent.testPartition(partition))).reason).toBe('TIMEOUT');
  });

  it('reports a crashed agent as DEVICE_ERROR with the function error message', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({ errorType: 'Error', errorMessage: 'Cannot find module pkcs11js' }),
    });

    const error = await hsmErrorOf(agent.testPartition(partition));

    expect(error.reason).toBe('DEVICE_ERROR');
    expect(error.message).toContain('Cannot find module pkcs11js');
  });

  it('reports a failed invoke (throttling, missing permission) as DEVICE_ERROR', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));

    const error = await hsmErrorOf(agent.describeKey(keyRef));

    expect(error.reason).toBe('DEVICE_ERROR');
    expect(error.message).toContain('TooManyRequestsException');
  });

  it.each([
    ['not JSON', bytes('<html>')],
    ['an unknown reason', payload({ ok: false, reason: 'SOMETHING', message: 'x' })],
    ['no ok field', payload({ result: keyInfo })],
  ])('refuses an answer that is %s', async (_case, answer) => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: answer });

    expect((await hsmErrorOf(agent.describeKey(keyRef))).reason).toBe('DEVICE_ERROR');
  });

  it('round-trips through the real Lambda entry: arguments in, HsmError reasons out', async () => {
    // Arrange: the mocked invoke runs the agent function's handler on the payload the client sent.
    const service = fakeHsmAgent();
    service.describeKey.mockResolvedValue(keyInfo);
    service.checkKey.mockRejectedValue(new HsmError('KEY_FUNCTION_NOT_PERMITTED', 'CKR_KEY_FUNCTION_NOT_PERMITTED', 'C_EncryptInit failed'));
    const entry = createHsmAgentHandler(() => service, new Logger({ serviceName: 'hsm-agent-test', logLevel: 'SILENT' }));
    lambda.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => ({
      StatusCode: 200,
      Payload: payload(await entry(sentPayload(input))),
    }));

    // Act + Assert
    await expect(agent.describeKey(keyRef)).resolves.toEqual(keyInfo);
    expect(service.describeKey).toHaveBeenCalledWith(keyRef);
    expect(await hsmErrorOf(agent.checkKey(keyRef))).toMatchObject({
      reason: 'KEY_FUNCTION_NOT_PERMITTED',
      returnCode: 'CKR_KEY_FUNCTION_NOT_PERMITTED',
    });
  });
});
