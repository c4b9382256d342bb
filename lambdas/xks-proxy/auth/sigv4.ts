/**
 * SigV4 verification of XKS requests (the XKS Proxy API spec, Appendix A), run as a layer in
 * front of every operation. The canonical request is rebuilt from what arrived (the raw body
 * bytes, every header the request's own `SignedHeaders` lists), the signing key comes from the
 * store credential named by the access key id, and the signatures are compared in constant time.
 * Every failure is the same 401 AuthenticationFailedException to the caller; the reason goes to
 * the log through the error's cause, so that a caller cannot probe which part was wrong.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { XksCredentialView, XksKeyStoreView } from '../../core/ports/xks-state-source';
import { XksError } from '../errors';
import { headerValues, singleHeader, type XksRequest } from '../http';
import { canonicalQuery, canonicalUri, deriveSigningKey, sha256Hex } from './sigv4-canonical';

export const XKS_SIGV4_SERVICE = 'kms-xks-proxy';
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** Requests more than 5 minutes in the past or future fail (Appendix A, Task 4). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Headers the spec says every XKS request signs. */
const REQUIRED_SIGNED_HEADERS = ['host', 'x-amz-date'] as const;
const SIGNING_KEY_CACHE_LIMIT = 1024;

export interface SigV4VerifierOptions {
  /** The secret access key of a credential (by the request's deadline, epoch ms); undefined when it no longer exists. */
  readonly resolveSecret: (credential: XksCredentialView, deadlineAt: number) => Promise<string | undefined>;
  readonly now?: () => number;
}

/** A request whose signature headers have the right shape and whose date is within the skew. */
export interface SignedRequest {
  readonly authorization: ParsedAuthorization;
  readonly amzDate: string;
  readonly signedHeaderNames: readonly string[];
}

interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: string;
  readonly signature: string;
}

export class SigV4Verifier {
  private readonly resolveSecret: SigV4VerifierOptions['resolveSecret'];
  private readonly now: () => number;
  /** kSigning per (credential, date, region): four HMACs saved per request. */
  private readonly signingKeys = new Map<string, { readonly secret: string; readonly key: Buffer }>();

  constructor(options: SigV4VerifierOptions) {
    this.resolveSecret = options.resolveSecret;
    this.now = options.now ?? Date.now;
  }

  /**
   * What can be checked without any state: the Authorization header's shape (algorithm,
   * credential scope for `kms-xks-proxy`, SignedHeaders with `host` and `x-amz-date`) and
   * `x-amz-date` within 5 minutes of the clock. The proxy runs this before it reads a key store,
   * so a request that is not even shaped like a signed KMS call costs no state read.
   */
  checkShape(request: XksRequest): SignedRequest {
    const authorization = parseAuthorization(singleHeader(request.headers, 'authorization'));
    const amzDate = singleHeader(request.headers, 'x-amz-date');
    if (amzDate === undefined) throw authFailure('missing or repeated x-amz-date header');
    const requestTime = parseAmzDate(amzDate);
    if (Math.abs(this.now() - requestTime) > MAX_CLOCK_SKEW_MS) throw authFailure('x-amz-date is more than 5 minutes away from the proxy clock');
    if (authorization.date !== amzDate.slice(0, 8)) throw authFailure('credential scope date differs from x-amz-date');
    if (authorization.service !== XKS_SIGV4_SERVICE) throw authFailure(`credential scope service is not ${XKS_SIGV4_SERVICE}`);
    const names = authorization.signedHeaders.split(';');
    for (const required of REQUIRED_SIGNED_HEADERS) {
      if (!names.includes(required)) throw authFailure(`SignedHeaders does not include ${required}`);
    }
    for (const name of names) {
      if (!name || name !== name.toLowerCase()) throw authFailure('malformed SignedHeaders');
    }
    return { authorization, amzDate, signedHeaderNames: names };
  }

  /**
   * Resolves to the credential that signed the request; throws AuthenticationFailedException.
   * `signed` is checkShape's result when the caller already ran it. The proxy runs the same
   * steps itself (credentialFor, its own secret lookup, checkSignature), so that a cached secret
   * costs no promise.
   */
  async verify(request: XksRequest, store: XksKeyStoreView, signed: SignedRequest = this.checkShape(request), deadlineAt = Number.POSITIVE_INFINITY): Promise<XksCredentialView> {
    const credential = this.credentialFor(store, signed);
    this.checkSignature(request, signed, credential, await this.resolveSecret(credential, deadlineAt));
    return credential;
  }

  /** The store's credential the request names, in the store's region; throws AuthenticationFailedException. */
  credentialFor(store: XksKeyStoreView, signed: SignedRequest): XksCredentialView {
    const { authorization } = signed;
    if (authorization.region !== store.region) throw authFailure(`credential scope region ${authorization.region} is not the key store's region`);
    const credential = store.credentials.find((candidate) => candidate.accessKeyId === authorization.accessKeyId);
    if (!credential) throw authFailure('unknown access key id');
    return credential;
  }

  /** The signature, rebuilt with the credential's secret and compared in constant time; throws AuthenticationFailedException. */
  checkSignature(request: XksRequest, signed: SignedRequest, credential: XksCredentialView, secret: string | undefined): void {
    const { authorization, amzDate } = signed;
    if (secret === undefined) throw authFailure('the credential has no secret');
    const canonical = canonicalRequest(request, authorization.signedHeaders, signed.signedHeaderNames);
    const expected = signature(canonical, amzDate, authorization.region, this.signingKey(credential, secret, authorization.date, authorization.region));
    const presented = Buffer.from(authorization.signature, 'hex');
    if (!timingSafeEqual(expected, presented)) throw authFailure('signature mismatch');
  }

  private signingKey(credential: XksCredentialView, secret: string, date: string, region: string): Buffer {
    const cacheKey = `${credential.id}\n${date}\n${region}`;
    const cached = this.signingKeys.get(cacheKey);
    if (cached && cached.secret === secret) return cached.key;
    const key = deriveSigningKey(secret, date, region, XKS_SIGV4_SERVICE);
    if (this.signingKeys.size >= SIGNING_KEY_CACHE_LIMIT) this.signingKeys.clear();
    this.signingKeys.set(cacheKey, { secret, key });
    return key;
  }
}

/** HMAC-SHA256 of the string to sign (AWS4-HMAC-SHA256, date, scope, hash of the canonical request). */
function signature(canonical: string, amzDate: string, region: string, signingKey: Buffer): Buffer {
  const scope = `${amzDate.slice(0, 8)}/${region}/${XKS_SIGV4_SERVICE}/aws4_request`;
  return createHmac('sha256', signingKey).update(`${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`).digest();
}

/**
 * The `x-amz-date` and `Authorization` headers that sign the request (host and x-amz-date signed)
 * with a store credential: the proxy's init rehearsal (rehearsal.ts) signs its own requests.
 */
export function signedHeadersFor(
  request: XksRequest,
  signer: { readonly accessKeyId: string; readonly secret: string; readonly region: string; readonly now: number },
): Record<string, string[]> {
  const amzDate = new Date(signer.now).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const names = ['host', 'x-amz-date'];
  const withDate: XksRequest = { ...request, headers: { ...request.headers, 'x-amz-date': [amzDate] } };
  const signedHeaders = names.join(';');
  const date = amzDate.slice(0, 8);
  const key = deriveSigningKey(signer.secret, date, signer.region, XKS_SIGV4_SERVICE);
  const hex = signature(canonicalRequest(withDate, signedHeaders, names), amzDate, signer.region, key).toString('hex');
  return {
    'x-amz-date': [amzDate],
    authorization: [`${SIGV4_ALGORITHM} Credential=${signer.accessKeyId}/${date}/${signer.region}/${XKS_SIGV4_SERVICE}/aws4_request, SignedHeaders=${signedHeaders}, Signature=${hex}`],
  };
}

function authFailure(reason: string): XksError {
  return new XksError('AuthenticationFailedException', 'The request signature could not be verified', { cause: new Error(reason) });
}

/** `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex`. */
function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (header === undefined) throw authFailure('missing or repeated Authorization header');
  const prefix = `${SIGV4_ALGORITHM} `;
  if (!header.startsWith(prefix)) throw authFailure(`Authorization is not ${SIGV4_ALGORITHM}`);
  // Exactly the three fields, each once, in any order, separated by commas (with optional spaces).
  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  for (let start = prefix.length; start <= header.length; ) {
    const comma = header.indexOf(',', start);
    const end = comma < 0 ? header.length : comma;
    let from = start;
    let to = end;
    while (from < to && isBlank(header.charCodeAt(from))) from += 1;
    while (to > from && isBlank(header.charCodeAt(to - 1))) to -= 1;
    if (credential === undefined && header.startsWith('Credential=', from)) credential = header.slice(from + 11, to);
    else if (signedHeaders === undefined && header.startsWith('SignedHeaders=', from)) signedHeaders = header.slice(from + 14, to);
    else if (signature === undefined && header.startsWith('Signature=', from)) signature = header.slice(from + 10, to);
    else throw authFailure('malformed Authorization header');
    start = end + 1;
  }
  if (!credential || !signedHeaders || !signature) throw authFailure('malformed Authorization header');
  if (!/^[0-9a-f]{64}$/.test(signature)) throw authFailure('malformed signature');
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !/^\d{8}$/.test(scope[1]) || !scope[0] || !scope[2]) {
    throw authFailure('malformed credential scope');
  }
  return { accessKeyId: scope[0], date: scope[1], region: scope[2], service: scope[3], signedHeaders, signature };
}

/** Space or tab (what may surround a field of the Authorization header). */
function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

/**
 * Per-request work that depends only on values that repeat from one request to the next (a busy
 * store sends the same few paths, and many requests per second share an x-amz-date): computed
 * once and kept, in maps that are emptied when they reach CANONICAL_CACHE_LIMIT.
 */
const CANONICAL_CACHE_LIMIT = 1024;
const canonicalUris = new Map<string, string>();
let lastAmzDate: { readonly text: string; readonly time: number } | undefined;

function cachedCanonicalUri(path: string): string {
  let canonical = canonicalUris.get(path);
  if (canonical === undefined) {
    canonical = canonicalUri(path);
    if (canonicalUris.size >= CANONICAL_CACHE_LIMIT) canonicalUris.clear();
    canonicalUris.set(path, canonical);
  }
  return canonical;
}

/** `YYYYMMDD'T'HHMMSS'Z'` → epoch ms (the last value parsed is kept). */
function parseAmzDate(value: string): number {
  if (lastAmzDate?.text === value) return lastAmzDate.time;
  const time = parseAmzDateText(value);
  lastAmzDate = { text: value, time };
  return time;
}

function parseAmzDateText(value: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) throw authFailure('malformed x-amz-date');
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(time);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw authFailure('malformed x-amz-date');
  return time;
}

function canonicalRequest(request: XksRequest, signedHeaders: string, names: readonly string[]): string {
  let headers = '';
  for (const name of names) {
    const values = headerValues(request.headers, name);
    if (values.length === 0) throw authFailure(`signed header ${name} is missing`);
    headers += `${name}:${values.map((value) => value.trim().replace(/\s+/g, ' ')).join(',')}\n`;
  }
  const payloadHash = sha256Hex(request.rawBody);
  if (names.includes('x-amz-content-sha256') && singleHeader(request.headers, 'x-amz-content-sha256') !== payloadHash) {
    throw authFailure('x-amz-content-sha256 does not match the body');
  }
  const query = canonicalQuery(request.query);
  if (query === undefined) throw authFailure('malformed query string');
  return `${request.method}\n${cachedCanonicalUri(request.path)}\n${query}\n${headers}\n${signedHeaders}\n${payloadHash}`;
}
