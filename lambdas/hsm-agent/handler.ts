/**
 * Lambda entry of the HSM agent (the proxy image's second entry point): validates the
 * `{operation, args}` payload, runs the agent service and answers `{ok:true, result}` or
 * `{ok:false, reason, returnCode, message}` (contract/hsm-agent-protocol.ts). HsmErrors are
 * answers, not function errors, so that the client can re-throw them with their reason.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../adapters/pkcs11/config';
import { Pkcs11HsmAgent } from '../adapters/pkcs11/hsm-agent';
import { HsmError, type HsmAgent } from '../core/ports/hsm';
import { portsFor } from '../runtime/adapter-set';
import { loadHsmAgentConfig } from '../runtime/config';
import {
  HsmAgentRequestError,
  parseHsmAgentRequest,
  type GcmSealedWire,
  type HsmAgentRequest,
  type HsmAgentResponse,
} from '../contract/hsm-agent-protocol';
import { isError } from '../core/errors';

export type HsmAgentHandler = (payload: unknown, context?: Context) => Promise<HsmAgentResponse>;

/** The entry's logic with its dependencies passed in; `agent` is called (and awaited) once per invocation. */
export function createHsmAgentHandler(agent: () => HsmAgent | Promise<HsmAgent>, logger: Logger): HsmAgentHandler {
  return async (payload, context) => {
    if (context) logger.addContext(context);
    let request: HsmAgentRequest;
    try {
      request = parseHsmAgentRequest(payload);
    } catch (error) {
      if (!(error instanceof HsmAgentRequestError)) throw error;
      logger.warn('invalid HSM agent request', { error: error.message });
      return { ok: false, reason: 'DEVICE_ERROR', returnCode: null, message: `invalid HSM agent request: ${error.message}` };
    }
    const [first] = request.args;
    const partitionId = 'partitionId' in first ? first.partitionId : first.partition.partitionId;
    logger.appendKeys({ operation: request.operation, partitionId });
    try {
      const result = await dispatchHsmAgentRequest(await agent(), request);
      // Results are key attributes, public keys and ready/not-ready messages: nothing secret. Wrapped
      // key material and MACs are not logged (only AWS KMS can unwrap the one, the other is a MAC).
      logger.info('HSM agent request done', LOGGED_RESULT[request.operation] ? { result } : {});
      return { ok: true, result: result ?? null };
    } catch (error) {
      if (!isError(error, HsmError)) throw error;
      logger.warn('HSM agent request failed', { reason: error.reason, returnCode: error.returnCode, error: error.message });
      return { ok: false, reason: error.reason, returnCode: error.returnCode ?? null, message: error.message };
    } finally {
      logger.removeKeys(['operation', 'partitionId']);
    }
  };
}

/** Whether an operation's result goes into the log line. */
const LOGGED_RESULT: Readonly<Record<HsmAgentRequest['operation'], boolean>> = {
  testPartition: true,
  generateKey: true,
  describeKey: true,
  destroyKey: true,
  checkKey: true,
  wrapKeyForImport: false,
  signHmac: false,
  encrypt: false,
  decrypt: false,
};

const fromBase64 = (text: string): Buffer => Buffer.from(text, 'base64');

/** Calls the agent method the request names (Base64 on the wire, Buffers at the port). */
async function dispatchHsmAgentRequest(agent: HsmAgent, request: HsmAgentRequest): Promise<unknown> {
  switch (request.operation) {
    case 'testPartition':
      return agent.testPartition(...request.args);
    case 'generateKey':
      return agent.generateKey(...request.args);
    case 'describeKey':
      return agent.describeKey(...request.args);
    case 'destroyKey':
      return agent.destroyKey(...request.args);
    case 'checkKey':
      return agent.checkKey(...request.args);
    case 'wrapKeyForImport':
      return agent.wrapKeyForImport(...request.args);
    case 'signHmac':
      return agent.signHmac(...request.args);
    case 'encrypt': {
      const [key, { plaintext, aad }] = request.args;
      const sealed = await agent.encrypt(key, fromBase64(plaintext), fromBase64(aad));
      return { iv: sealed.iv.toString('base64'), ciphertext: sealed.ciphertext.toString('base64'), tag: sealed.tag.toString('base64') } satisfies GcmSealedWire;
    }
    case 'decrypt': {
      const [key, { iv, ciphertext, tag, aad }] = request.args;
      const plaintext = await agent.decrypt(key, { iv: fromBase64(iv), ciphertext: fromBase64(ciphertext), tag: fromBase64(tag) }, fromBase64(aad));
      return { plaintext: plaintext.toString('base64') };
    }
  }
}

/**
 * Composition root of the agent function, with an init-phase warm-up: on Lambda the agent is
 * built and its PKCS#11 library loaded and initialised in the init phase (the image's entry is
 * the ES module `lambda.mjs` beside this file, which awaits `warmUpOnLambda()` at its top level);
 * the handler awaits that. A failure is logged and the next invocation starts over. The agent learns its partitions
 * from its calls, so logins happen at the first call on each (nobody waits on a hot path here).
 */
const agentLogger = new Logger({ serviceName: 'hsm-agent' });
let initialization: Promise<Pkcs11HsmAgent> | undefined;

function initializeAgent(): Promise<Pkcs11HsmAgent> {
  initialization ??= (async () => {
    // Configuration read once; the secret store comes from the configured adapter set.
    const config = loadHsmAgentConfig();
    const agent = new Pkcs11HsmAgent(pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS, libraries: config.pkcs11Libraries, cipherCallModes: config.pkcs11CallModes, sessionCallModes: config.pkcs11CallModes }), portsFor(config).secrets);
    const libraries = await agent.warmUp();
    agentLogger.info('HSM agent initialized', { libraries });
    return agent;
  })().catch((error: unknown) => {
    initialization = undefined;
    agentLogger.error('HSM agent initialization failed; the next invocation tries again', { error: error instanceof Error ? error.message : String(error) });
    throw error;
  });
  return initialization;
}

/** On Lambda: loads and initialises PKCS#11 now (a failure is logged and retried by the next invocation); elsewhere nothing. */
export async function warmUpOnLambda(): Promise<void> {
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) await initializeAgent().catch(() => undefined);
}

export const handler = createHsmAgentHandler(initializeAgent, agentLogger);
