/**
 * Verification of incoming SigV4 signatures (Authorization header form), the way AWS checks
 * them: the canonical request is rebuilt from what arrived (every header `SignedHeaders` names,
 * the raw body), the secret comes from the access key the credential scope names, temporary
 * credentials need their session token, and requests more than 5 minutes off the clock fail.
 * Pre-signed URLs (query-string signatures) are not accepted.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { canonicalQuery, canonicalUri, deriveSigningKey, sha256Hex } from '../../xks-proxy/auth/sigv4-canonical';
import type { AccessKeyRecord } from './credentials';

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export type SignatureFailureReason = 'missing' | 'incomplete' | 'unknown-key' | 'mismatch' | 'expired-token' | 'invalid-token' | 'skew';

export class SignatureFailure extends Error {
  constructor(
    readonly reason: SignatureFailureReason,
    message: string,
  ) {
    super(message);
  }
}

export interface IncomingSignedRequest {
  readonly method: string;
  /** Path as on the wire, without the query. */
  readonly path: string;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface VerifiedSignature {
  readonly key: AccessKeyRecord;
  readonly region: string;
  readonly service: string;
}

export function verifySignature(request: IncomingSignedRequest, findKey: (accessKeyId: string) => AccessKeyRecord | undefined, now: Date): VerifiedSignature {
  const authorization = header(request.headers, 'authorization');
  if (authorization === undefined) throw new SignatureFailure('missing', 'Missing Authentication Token');
  if (!authorization.startsWith(`${ALGORITHM} `)) throw new SignatureFailure('incomplete', `Unsupported authorization type: ${authorization.split(' ')[0]}`);
  const fields = new Map<string, string>();
  for (const part of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    throw new SignatureFailure('incomplete', "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.");
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') throw new SignatureFailure('incomplete', `Credential should be scoped to a valid region, not '${scope[2] ?? ''}'.`);
  const [accessKeyId, date, region, service] = scope;

  const key = findKey(accessKeyId);
  if (!key) throw new SignatureFailure('unknown-key', 'The security token included in the request is invalid.');
  const token = header(request.headers, 'x-amz-security-token');
  if (key.sessionToken !== undefined || token !== undefined) {
    if (token !== key.sessionToken) throw new SignatureFailure('invalid-token', 'The security token included in the request is invalid.');
    if (key.expiration !== undefined && key.expiration <= now.getTime()) throw new SignatureFailure('expired-token', 'The security token included in the request is expired');
  }

  const amzDate = header(request.headers, 'x-amz-date');
  if (amzDate === undefined || !/^\d{8}T\d{6}Z$/.test(amzDate)) throw new SignatureFailure('incomplete', 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.');
  const requestTime = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (Math.abs(now.getTime() - requestTime) > MAX_CLOCK_SKEW_MS) {
    throw new SignatureFailure('skew', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(now.getTime() - MAX_CLOCK_SKEW_MS))} (${formatAmzDate(now)} - 5 min.)`);
  }

  const names = signedHeaders.split(';');
  let canonicalHeaders = '';
  for (const name of names) {
    const value = request.headers[name];
    if (value === undefined) throw new SignatureFailure('mismatch', mismatchMessage());
    const values = Array.isArray(value) ? value : [value];
    canonicalHeaders += `${name}:${values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`;
  }
  const payloadHash = sha256Hex(request.body);
  const query = canonicalQuery(request.query);
  if (query === undefined) throw new SignatureFailure('mismatch', mismatchMessage());
  const canonical = [request.method, canonicalUri(request.path), query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${date}/${region}/${service}/aws4_request\n${sha256Hex(canonical)}`;
  const expected = createHmac('sha256', deriveSigningKey(key.secretAccessKey, date, region, service)).update(stringToSign).digest();
  const presented = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  if (presented.length !== expected.length || !timingSafeEqual(expected, presented)) throw new SignatureFailure('mismatch', mismatchMessage());
  return { key, region, service };
}

const mismatchMessage = (): string =>
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const formatAmzDate = (date: Date): string => date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
