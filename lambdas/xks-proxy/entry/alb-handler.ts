/**
 * The production front door: an Application Load Balancer target Lambda (container image). It
 * only translates the ALB event to an XksRequest and the XksResponse back; the core does the rest.
 *
 * mTLS: with the listener's mutual authentication in `verify` mode, the ALB verifies the client
 * certificate against its trust store and forwards `x-amzn-mtls-clientcert-subject` /
 * `-leaf`. Those headers are trusted only when the deployment says the ALB runs in verify mode
 * (ENV.xksAlbMtlsVerify), since otherwise a client could send them itself.
 */
import type { ALBEvent, ALBResult, Context } from 'aws-lambda';
import type { XksHeaders, XksRequest, XksResponse } from '../http';
import { performance } from 'node:perf_hooks';
import { XksError } from '../errors';
import { createXksLogger, createXksProxyRuntime } from './composition-root';
import type { XksProxy } from '../xks-proxy';

export const ALB_MTLS_SUBJECT_HEADER = 'x-amzn-mtls-clientcert-subject';
export const ALB_MTLS_LEAF_HEADER = 'x-amzn-mtls-clientcert-leaf';

export interface AlbAdapterOptions {
  /** Trust the ALB's mutual-authentication headers (listener in verify mode). */
  readonly trustMtlsHeaders: boolean;
}

function lowerCaseHeaders(event: ALBEvent): XksHeaders {
  const headers: Record<string, string[]> = {};
  if (event.multiValueHeaders) {
    for (const [name, values] of Object.entries(event.multiValueHeaders)) {
      if (values) (headers[name.toLowerCase()] ??= []).push(...values);
    }
  } else if (event.headers) {
    for (const [name, value] of Object.entries(event.headers)) {
      if (value !== undefined) (headers[name.toLowerCase()] ??= []).push(value);
    }
  }
  return headers;
}

/** The ALB passes query parameters as received (not decoded); rebuild the raw query string. */
function rawQuery(event: ALBEvent): string | undefined {
  const parts: string[] = [];
  if (event.multiValueQueryStringParameters) {
    for (const [name, values] of Object.entries(event.multiValueQueryStringParameters)) {
      for (const value of values ?? []) parts.push(`${name}=${value}`);
    }
  } else if (event.queryStringParameters) {
    for (const [name, value] of Object.entries(event.queryStringParameters)) parts.push(`${name}=${value ?? ''}`);
  }
  return parts.length > 0 ? parts.join('&') : undefined;
}

/** The CN of an RFC 2253 subject such as `CN=cks.kms.eu-west-1.amazonaws.com,O=Amazon`. */
export function commonNameOf(subject: string): string | undefined {
  for (const part of subject.split(/(?<!\\),/)) {
    const match = /^\s*CN=(.*)$/i.exec(part);
    if (match) return match[1].replace(/\\(.)/g, '$1').trim();
  }
  return undefined;
}

export function albEventToXksRequest(event: ALBEvent, options: AlbAdapterOptions): XksRequest {
  const headers = lowerCaseHeaders(event);
  const rawBody = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  const subject = headers[ALB_MTLS_SUBJECT_HEADER]?.[0];
  const verified = options.trustMtlsHeaders && subject !== undefined && headers[ALB_MTLS_LEAF_HEADER] !== undefined;
  return {
    method: event.httpMethod,
    path: event.path,
    query: rawQuery(event),
    headers,
    rawBody,
    clientCertificateVerified: verified,
    clientCertificateSubjectCn: verified && subject ? commonNameOf(subject) : undefined,
  };
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};

/** Target groups with multi-value headers on expect `multiValueHeaders` in the answer too. */
export function xksResponseToAlbResult(response: XksResponse, multiValue: boolean): ALBResult {
  const statusDescription = `${response.status} ${STATUS_TEXT[response.status] ?? ''}`.trim();
  const base = { statusCode: response.status, statusDescription, body: response.body, isBase64Encoded: false };
  if (multiValue) {
    return { ...base, multiValueHeaders: Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, [value]])) };
  }
  return { ...base, headers: { ...response.headers } };
}

export function createAlbHandler(proxy: XksProxy, options: AlbAdapterOptions): (event: ALBEvent) => Promise<ALBResult> {
  return async (event) => xksResponseToAlbResult(await proxy.handle(albEventToXksRequest(event, options)), event.multiValueHeaders !== undefined);
}

/**
 * Init-phase warm-up. On Lambda the runtime is built and warmed (PKCS#11 loaded and initialised,
 * a login and a session per partition a store uses, state, secrets and key handles cached, a
 * first deep health check) while the module loads, so that provisioned concurrency starts it
 * ahead of traffic; the handler awaits it. A failure is logged with its cause and the next
 * invocation starts over: it never leaves the instance broken. Outside Lambda (tests, tools
 * importing this module) nothing starts until the first invocation.
 *
 * The image's entry is the ES module `lambda.mjs` beside this file, which awaits `warmUpOnLambda()`
 * at its top level: Lambda holds an ES module's init phase open until that await settles, so the
 * warm-up is done before the first event is delivered.
 */
const logger = createXksLogger();
let initialization: Promise<(event: ALBEvent) => Promise<ALBResult>> | undefined;

function initialize(): Promise<(event: ALBEvent) => Promise<ALBResult>> {
  initialization ??= (async () => {
    const started = performance.now();
    const runtime = createXksProxyRuntime(process.env, logger);
    const warm = await runtime.proxy.warmUp();
    for (const failure of warm.failures) logger.warn('xks-proxy warm-up: not cached', { id: failure.id, error: describeError(failure.error) });
    logger.info('xks-proxy initialized', { keyStores: warm.keyStores, keys: warm.keys, initMs: Math.round(performance.now() - started) });
    // Written now, in the init phase it reports on, not with the first invocation's lines.
    logger.flush();
    return createAlbHandler(runtime.proxy, { trustMtlsHeaders: runtime.settings.albMtlsVerify });
  })().catch((error: unknown) => {
    initialization = undefined;
    logger.error('xks-proxy initialization failed; the next invocation tries again', { error: describeError(error) });
    throw error;
  });
  return initialization;
}

function describeError(error: unknown): Record<string, unknown> {
  return error instanceof Error ? { name: error.name, message: error.message.slice(0, 512) } : { message: String(error).slice(0, 512) };
}

/** On Lambda: builds and warms the runtime now (a failure is logged and retried by the next invocation); elsewhere nothing. */
export async function warmUpOnLambda(): Promise<void> {
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) await initialize().catch(() => undefined);
}

export const handler = async (event: ALBEvent, context?: Context): Promise<ALBResult> => {
  if (context) logger.addContext(context);
  let handle: (event: ALBEvent) => Promise<ALBResult>;
  try {
    handle = await initialize();
  } catch {
    const failure = new XksError('InternalException', 'The proxy is starting; retry shortly');
    return xksResponseToAlbResult(failure.toResponse(), event.multiValueHeaders !== undefined);
  }
  try {
    return await handle(event);
  } finally {
    // The invocation's lines are written before it returns (the logger batches them otherwise).
    logger.flush();
  }
};
