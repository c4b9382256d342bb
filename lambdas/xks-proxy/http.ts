/**
 * The transport-independent request and response of the XKS proxy core. Both front doors (the
 * ALB Lambda handler and the local HTTPS server) translate to and from these shapes.
 */

/** Header names are lower-case; repeated headers keep every value, in order. */
export type XksHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface XksRequest {
  readonly method: string;
  /** The path as it arrived on the wire (percent-encoded, no query string). */
  readonly path: string;
  /** The raw query string without `?`, when there is one. */
  readonly query?: string;
  readonly headers: XksHeaders;
  /** The body bytes exactly as received: SigV4 hashes these. */
  readonly rawBody: Buffer;
  /**
   * Set by the front door: true when the client presented a certificate that the TLS terminator
   * (the HTTPS server, or the ALB's mutual authentication) verified against the trusted CA.
   */
  readonly clientCertificateVerified?: boolean;
  /** The verified client certificate's subject common name, when there is one. */
  readonly clientCertificateSubjectCn?: string;
}

export interface XksResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Serialised JSON (or empty). */
  readonly body: string;
}

export const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json' };

export function jsonResponse(status: number, body: unknown, extraHeaders?: Record<string, string>): XksResponse {
  return { status, headers: extraHeaders ? { ...JSON_HEADERS, ...extraHeaders } : JSON_HEADERS, body: JSON.stringify(body) };
}

/** Every value of a header, in arrival order ([] when absent). */
export function headerValues(headers: XksHeaders, name: string): readonly string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

/** A header that must occur at most once; undefined when absent or repeated. */
export function singleHeader(headers: XksHeaders, name: string): string | undefined {
  const values = headerValues(headers, name);
  return values.length === 1 ? values[0] : undefined;
}
