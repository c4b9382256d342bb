/**
 * The control plane's HsmAgent on AWS: a synchronous invoke of the HSM agent function (the proxy
 * image's second entry point, in the VPC that reaches the HSM). Agent failures come back as
 * `{ok:false, reason, …}` and are re-thrown as HsmError with the same reason; a failed invoke or a
 * function error (crash, Lambda timeout) becomes DEVICE_ERROR or TIMEOUT.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { HsmError, type GcmCiphertext, type HsmAgent } from '../../core/ports/hsm';
import type { GenerateKeyRequest, HsmKeyInfo, HsmKeyRef, PartitionConnection, PartitionTestResult } from '../../contract/hsm';
import type { HmacResult, SignHmacRequest, WrapForImportRequest, WrappedKeyMaterial } from '../../contract/hsm-key-types';
import { isHsmFailureReason, type GcmSealedWire, type HsmAgentRequest } from '../../contract/hsm-agent-protocol';

export interface LambdaHsmAgentConfig {
  /** Name or ARN of the HSM agent function (ENV.hsmAgentFunctionName, read by the composition root). */
  readonly functionName: string;
}

export class LambdaHsmAgent implements HsmAgent {
  constructor(
    private readonly config: LambdaHsmAgentConfig,
    private readonly lambda: LambdaClient = new LambdaClient({}),
  ) {}

  testPartition(partition: PartitionConnection): Promise<PartitionTestResult> {
    return this.invoke({ operation: 'testPartition', args: [partition] });
  }

  generateKey(partition: PartitionConnection, request: GenerateKeyRequest): Promise<HsmKeyInfo> {
    return this.invoke({ operation: 'generateKey', args: [partition, request] });
  }

  describeKey(key: HsmKeyRef): Promise<HsmKeyInfo | undefined> {
    return this.invoke({ operation: 'describeKey', args: [key] });
  }

  async destroyKey(key: HsmKeyRef): Promise<void> {
    await this.invoke({ operation: 'destroyKey', args: [key] });
  }

  checkKey(key: HsmKeyRef): Promise<PartitionTestResult> {
    return this.invoke({ operation: 'checkKey', args: [key] });
  }

  wrapKeyForImport(key: HsmKeyRef, request: WrapForImportRequest): Promise<WrappedKeyMaterial> {
    return this.invoke({ operation: 'wrapKeyForImport', args: [key, request] });
  }

  signHmac(key: HsmKeyRef, request: SignHmacRequest): Promise<HmacResult> {
    return this.invoke({ operation: 'signHmac', args: [key, request] });
  }

  async encrypt(key: HsmKeyRef, plaintext: Buffer, aad: Buffer): Promise<GcmCiphertext> {
    const sealed = await this.invoke<GcmSealedWire>({ operation: 'encrypt', args: [key, { plaintext: plaintext.toString('base64'), aad: aad.toString('base64') }] });
    return { iv: Buffer.from(sealed.iv, 'base64'), ciphertext: Buffer.from(sealed.ciphertext, 'base64'), tag: Buffer.from(sealed.tag, 'base64') };
  }

  async decrypt(key: HsmKeyRef, input: GcmCiphertext, aad: Buffer): Promise<Buffer> {
    const { iv, ciphertext, tag } = input;
    const wire = { iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: tag.toString('base64'), aad: aad.toString('base64') };
    const opened = await this.invoke<{ plaintext: string }>({ operation: 'decrypt', args: [key, wire] });
    return Buffer.from(opened.plaintext, 'base64');
  }

  private async invoke<T>(request: HsmAgentRequest): Promise<T> {
    const { functionName } = this.config;
    let output;
    try {
      output = await this.lambda.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: JSON.stringify(request) }),
      );
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const reason = name === 'TimeoutError' ? 'TIMEOUT' : 'DEVICE_ERROR';
      throw new HsmError(reason, undefined, `the HSM agent function ${functionName} could not be invoked (${name})`, { cause: error });
    }
    const text = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
    if (output.FunctionError) {
      const detail = parseJson(text) as { errorType?: unknown; errorMessage?: unknown } | undefined;
      const message = typeof detail?.errorMessage === 'string' ? detail.errorMessage : output.FunctionError;
      const reason = /timed out/i.test(message) ? 'TIMEOUT' : 'DEVICE_ERROR';
      throw new HsmError(reason, undefined, `the HSM agent function ${functionName} failed: ${message}`);
    }
    const response = parseJson(text) as Record<string, unknown> | undefined;
    if (response?.ok === true) return (response.result ?? undefined) as T;
    if (response?.ok === false && isHsmFailureReason(response.reason) && typeof response.message === 'string') {
      const returnCode = typeof response.returnCode === 'string' ? response.returnCode : undefined;
      throw new HsmError(response.reason, returnCode, response.message);
    }
    throw new HsmError('DEVICE_ERROR', undefined, `the HSM agent function ${functionName} gave an answer that is not an HSM agent response`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
