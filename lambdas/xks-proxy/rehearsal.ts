/**
 * The init phase's rehearsal: after the warm-up has cached a store, its secrets and a key, one
 * request of each XKS operation goes through the proxy's own request path, signed with the
 * store's credential, in several rounds (XksProxy's REHEARSAL_ROUNDS). V8 compiles a function when
 * it is first called and optimises it only after several calls, so without it the first real
 * request after init paid for compiling that whole path (bench:xks measured ~20 ms more than the
 * requests after it); with it, the first request is within ~1.3 ms of the later ones.
 *
 * A rehearsal leaves no trace and uses no KMS key: its log lines are formatted as the real ones
 * and then dropped (the rehearsal logger), it counts no metric and records no credential use
 * (XksProxy runs it with its rehearsal effects), and its Encrypt and Decrypt run in the HSM with
 * the store's health-check key, as the deep health check does, so that the PKCS#11 adapter's
 * request path (session pool, mechanism, key handle, the call itself) has run as often as the
 * proxy's own before the first request.
 */
import { randomBytes } from 'node:crypto';
import type { HsmKeyInfo, HsmKeyRef } from '../contract/hsm';
import { xksProxyUriPath } from '../contract/xks-proxy-uri';
import type { KeyCrypto } from '../core/ports/hsm';
import type { XksCredentialView, XksKeyStoreView, XksKeyView } from '../core/ports/xks-state-source';
import { signedHeadersFor } from './auth/sigv4';
import type { XksRequest, XksResponse } from './http';
import type { XksLogger } from './observability/audit';

/** What a rehearsal needs: a cached store with a credential whose secret is known, and one of its keys. */
export interface RehearsalTarget {
  readonly store: XksKeyStoreView;
  readonly credential: XksCredentialView;
  readonly secret: string;
  readonly key?: XksKeyView;
  /** The key's attributes as the warm-up read them (what GetKeyMetadata answers). */
  readonly keyInfo?: HsmKeyInfo;
}

const REHEARSAL_HOST = 'xks-proxy.rehearsal';
const REHEARSAL_REQUEST_ID = 'init-rehearsal';

export const SILENT_LOGGER: XksLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The HSM as a rehearsal sees it: Encrypt and Decrypt go to the HSM through the real KeyCrypto
 * but with the store's health-check key (never a KMS key, as for the deep health check), and the
 * key's description is the one the warm-up read.
 */
export function rehearsalKeyCrypto(keyCrypto: KeyCrypto, healthCheckKey: HsmKeyRef, keyInfo: HsmKeyInfo | undefined): KeyCrypto {
  return {
    encrypt: (_key, plaintext, aad, options) => keyCrypto.encrypt(healthCheckKey, plaintext, aad, options),
    decrypt: (_key, input, aad, options) => keyCrypto.decrypt(healthCheckKey, input, aad, options),
    describe: async () => keyInfo,
  };
}

function signedRequest(target: RehearsalTarget, operationPath: string, body: unknown, nowMs: number): XksRequest {
  const request: XksRequest = {
    method: 'POST',
    path: `${xksProxyUriPath(target.store.id)}${operationPath}`,
    headers: { host: [REHEARSAL_HOST], 'content-type': ['application/json'] },
    rawBody: Buffer.from(JSON.stringify(body)),
  };
  const headers = signedHeadersFor(request, { accessKeyId: target.credential.accessKeyId, secret: target.secret, region: target.store.region, now: nowMs });
  return { ...request, headers: { ...request.headers, ...headers } };
}

function requestMetadata(kmsOperation: string, key: XksKeyView): Record<string, string> {
  return { awsPrincipalArn: 'arn:aws:iam::000000000000:root', kmsKeyArn: key.awsKeyId, kmsOperation, kmsRequestId: REHEARSAL_REQUEST_ID };
}

/**
 * GetHealthStatus, and with a key GetKeyMetadata, Encrypt and the Decrypt of that Encrypt's
 * answer, each through `serve` (the proxy's request path with its rehearsal effects). Answers are
 * not judged: a store or key that cannot serve still ran its path as far as a real request would.
 */
export async function rehearse(target: RehearsalTarget, nowMs: number, serve: (request: XksRequest) => Promise<XksResponse>): Promise<void> {
  await serve(signedRequest(target, '/health', { requestMetadata: { kmsOperation: 'KmsHealthCheck', kmsRequestId: REHEARSAL_REQUEST_ID } }, nowMs));
  const { key } = target;
  if (!key) return;
  const keyPath = (operation: string) => `/keys/${key.externalKeyId}/${operation}`;
  await serve(signedRequest(target, keyPath('metadata'), { requestMetadata: requestMetadata('DescribeKey', key) }, nowMs));
  const additionalAuthenticatedData = randomBytes(32).toString('base64');
  const encrypted = await serve(
    signedRequest(target, keyPath('encrypt'), {
      requestMetadata: requestMetadata('Encrypt', key),
      plaintext: randomBytes(32).toString('base64'),
      encryptionAlgorithm: 'AES_GCM',
      additionalAuthenticatedData,
    }, nowMs),
  );
  if (encrypted.status !== 200) return;
  const { ciphertext, ciphertextMetadata, initializationVector, authenticationTag } = JSON.parse(encrypted.body) as Record<string, string>;
  await serve(
    signedRequest(target, keyPath('decrypt'), {
      requestMetadata: requestMetadata('Decrypt', key),
      ciphertext, ciphertextMetadata, initializationVector, authenticationTag,
      encryptionAlgorithm: 'AES_GCM',
      additionalAuthenticatedData,
    }, nowMs),
  );
}
