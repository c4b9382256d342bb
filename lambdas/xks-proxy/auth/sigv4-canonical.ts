/**
 * The parts of SigV4 that every verifier rebuilds the same way (AWS's "Create a canonical
 * request" and "Calculate the signature"): path and query canonicalisation for non-S3 services,
 * and the signing key. Used by the XKS proxy's verifier (sigv4.ts) and by the local AWS
 * stand-in's (lambdas/local/aws-stand-in/sigv4.ts).
 */
import { createHmac, hash } from 'node:crypto';

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

export function sha256Hex(data: string | Buffer): string {
  // One call, no Hash object: this runs twice per XKS request.
  return hash('sha256', data, 'hex');
}

/** RFC 3986 encoding as SigV4 wants it (every byte but the unreserved characters). */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Non-S3 services encode the path once more on top of what went on the wire, after removing
 * empty, `.` and `..` segments (what @smithy/signature-v4 does; for paths of unreserved
 * characters only, every signer agrees).
 */
export function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.map(uriEncode).join('/')}${trailing}`;
}

/** Sorted, re-encoded `name=value` pairs; undefined when the query string is not valid percent-encoding. */
export function canonicalQuery(query: string | undefined): string | undefined {
  if (!query) return '';
  const pairs: [string, string][] = [];
  try {
    for (const part of query.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? '' : part.slice(eq + 1);
      pairs.push([uriEncode(decodeURIComponent(name)), uriEncode(decodeURIComponent(value))]);
    }
  } catch {
    return undefined;
  }
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}
