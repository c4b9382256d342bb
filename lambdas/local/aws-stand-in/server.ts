/**
 * The stand-in's HTTP front door. For each request it
 *  1. reads the body and tells the protocol apart: AWS JSON 1.1 (`X-Amz-Target`) or query (`Action=`);
 *  2. verifies the SigV4 signature (sigv4.ts) and that it was made for the operation's service;
 *  3. applies the throttle;
 *  4. runs the registered operation with the caller's account and the signed region;
 *  5. encodes the answer or the AwsError in the protocol's shape, with `x-amzn-RequestId`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from './aws-error';
import { CredentialStore } from './credentials';
import type { JsonObject, OperationContext, StandInRuntime, XmlValue } from './operation-registry';
import { SignatureFailure, verifySignature, type SignatureFailureReason, type VerifiedSignature } from './sigv4';
import type { Throttle } from './throttle';

const MAX_BODY_BYTES = 1024 * 1024;
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** How signature failures are named by each protocol (JSON services / query services), with AWS's statuses. */
const SIGNATURE_ERRORS: Record<SignatureFailureReason, { json: string; query: string; queryStatus: number }> = {
  missing: { json: 'MissingAuthenticationTokenException', query: 'MissingAuthenticationToken', queryStatus: 403 },
  incomplete: { json: 'IncompleteSignatureException', query: 'IncompleteSignature', queryStatus: 400 },
  'unknown-key': { json: 'UnrecognizedClientException', query: 'InvalidClientTokenId', queryStatus: 403 },
  'invalid-token': { json: 'UnrecognizedClientException', query: 'InvalidClientTokenId', queryStatus: 403 },
  mismatch: { json: 'InvalidSignatureException', query: 'SignatureDoesNotMatch', queryStatus: 403 },
  'expired-token': { json: 'ExpiredTokenException', query: 'ExpiredToken', queryStatus: 400 },
  skew: { json: 'InvalidSignatureException', query: 'SignatureDoesNotMatch', queryStatus: 403 },
};

export class StandInServer {
  constructor(
    private readonly runtime: StandInRuntime,
    private readonly throttle: Throttle,
  ) {}

  /** node:http request listener. */
  readonly listener = (message: IncomingMessage, response: ServerResponse): void => {
    // The stand-in's clock, as AWS sends its own: SDKs correct their clock skew from it.
    response.setHeader('date', this.runtime.now().toUTCString());
    void this.handle(message, response).catch((error: unknown) => {
      this.runtime.log(`unexpected failure: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': JSON_CONTENT_TYPE }).end(JSON.stringify({ __type: 'InternalFailure', message: 'Internal failure' }));
    });
  };

  private async handle(message: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const body = await readBody(message);
    if (body === undefined) {
      writeJsonError(response, requestId, new AwsError('SerializationException', 'Request body too large'));
      return;
    }
    const url = message.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const target = headerOf(message, 'x-amz-target');
    if (target !== undefined) await this.handleJson(message, response, { requestId, body, path, query, target });
    else await this.handleQuery(message, response, { requestId, body, path, query });
  }

  private verify(message: IncomingMessage, path: string, query: string, body: Buffer): VerifiedSignature {
    return verifySignature(
      { method: message.method ?? 'GET', path, query, headers: message.headers, body },
      (id) => this.runtime.credentials.find(id),
      this.runtime.now(),
    );
  }

  private context(operation: string, requestId: string, signature: VerifiedSignature): OperationContext {
    return {
      operation,
      requestId,
      caller: CredentialStore.callerOf(signature.key),
      region: signature.region,
      state: this.runtime.state.scope(signature.key.accountId, signature.region),
      runtime: this.runtime,
    };
  }

  private async handleJson(
    message: IncomingMessage,
    response: ServerResponse,
    request: { requestId: string; body: Buffer; path: string; query: string; target: string },
  ): Promise<void> {
    const { requestId, target } = request;
    try {
      let signature: VerifiedSignature;
      try {
        signature = this.verify(message, request.path, request.query, request.body);
      } catch (error) {
        if (error instanceof SignatureFailure) throw new AwsError(SIGNATURE_ERRORS[error.reason].json, error.message);
        throw error;
      }
      const operation = this.runtime.registry.findJson(target);
      if (!operation) throw new AwsError('UnknownOperationException', '');
      if (signature.service !== operation.service.signingName) {
        throw new AwsError('InvalidSignatureException', `Credential should be scoped to correct service: '${operation.service.signingName}'.`);
      }
      if (!this.throttle.admit(signature.key.accountId, signature.region, operation.name)) throw new AwsError('ThrottlingException', 'Rate exceeded');
      let input: JsonObject;
      try {
        const text = request.body.toString('utf8');
        const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        input = parsed as JsonObject;
      } catch {
        throw new AwsError('SerializationException', 'Start of structure or map found where not expected.');
      }
      const output = await operation.run(input, this.context(target, requestId, signature));
      response.writeHead(200, { 'content-type': JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId }).end(JSON.stringify(output));
    } catch (error) {
      writeJsonError(response, requestId, this.asAwsError(error, target));
    }
  }

  private async handleQuery(message: IncomingMessage, response: ServerResponse, request: { requestId: string; body: Buffer; path: string; query: string }): Promise<void> {
    const { requestId } = request;
    const params = new URLSearchParams(message.method === 'POST' ? request.body.toString('utf8') : request.query);
    const action = params.get('Action') ?? '';
    let xmlns = 'https://sts.amazonaws.com/doc/2011-06-15/';
    try {
      let signature: VerifiedSignature;
      try {
        signature = this.verify(message, request.path, request.query, request.body);
      } catch (error) {
        if (error instanceof SignatureFailure) throw new AwsError(SIGNATURE_ERRORS[error.reason].query, error.message, SIGNATURE_ERRORS[error.reason].queryStatus);
        throw error;
      }
      const operation = this.runtime.registry.findQuery(signature.service, action);
      if (!operation) throw new AwsError('InvalidAction', `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
      xmlns = operation.service.xmlns;
      if (!this.throttle.admit(signature.key.accountId, signature.region, action)) throw new AwsError('Throttling', 'Rate exceeded');
      const result = await operation.run(params, this.context(`${signature.service}:${action}`, requestId, signature));
      const xml =
        `<${action}Response xmlns="${xmlns}">` +
        `<${action}Result>${toXml(result)}</${action}Result>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
        `</${action}Response>`;
      response.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }).end(xml);
    } catch (error) {
      const awsError = this.asAwsError(error, action);
      const xml =
        `<ErrorResponse xmlns="${xmlns}"><Error><Type>${awsError.fault}</Type><Code>${escapeXml(awsError.type)}</Code>` +
        `<Message>${escapeXml(awsError.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      response.writeHead(awsError.statusCode, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }).end(xml);
    }
  }

  private asAwsError(error: unknown, operation: string): AwsError {
    if (error instanceof AwsError) return error;
    this.runtime.log(`${operation} failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return new AwsError('KMSInternalException', 'An internal error occurred.', 500);
  }
}

function writeJsonError(response: ServerResponse, requestId: string, error: AwsError): void {
  response
    .writeHead(error.statusCode, { 'content-type': JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId, 'x-amzn-errortype': error.type })
    .end(JSON.stringify({ __type: error.type, message: error.message }));
}

function headerOf(message: IncomingMessage, name: string): string | undefined {
  const value = message.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(message: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    message.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    message.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    message.on('error', reject);
  });
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** Renders an XmlValue: objects as child elements, lists as `<member>` elements. */
export function toXml(value: XmlValue): string {
  if (typeof value === 'string') return escapeXml(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map((item: XmlValue) => `<member>${toXml(item)}</member>`).join('');
  return Object.entries(value as Record<string, XmlValue | undefined>)
    .filter(([, child]) => child !== undefined)
    .map(([name, child]) => `<${name}>${toXml(child as XmlValue)}</${name}>`)
    .join('');
}
