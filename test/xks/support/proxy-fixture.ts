/**
 * An XksProxy over in-memory ports with one key store ("ks-1", us-east-1), two credentials, a
 * health-check key and one HYOK key ("key-1", version 0), plus a `call` helper that signs with
 * @smithy/signature-v4 and parses the response.
 */
import type { CredentialUsage } from '../../../lambdas/core/ports/credential-usage';
import type { KeyCrypto } from '../../../lambdas/core/ports/hsm';
import type { XksKeyStoreView, XksKeyView } from '../../../lambdas/core/ports/xks-state-source';
import type { XksRequest, XksResponse } from '../../../lambdas/xks-proxy/http';
import type { XksMetrics } from '../../../lambdas/xks-proxy/observability/metrics';
import type { XksLogger } from '../../../lambdas/xks-proxy/observability/audit';
import { xksProxyUriPath } from '../../../lambdas/contract/xks-proxy-uri';
import { XksProxy, type XksProxyOptions } from '../../../lambdas/xks-proxy/xks-proxy';
import { MemorySecretStore } from '../../helpers/softhsm';
import { MemoryKeyCrypto, MemoryXksState, RecordingLogger, TEST_PARTITION } from './fakes';
import { signWithSmithy, type XksSigningCredential } from './signing';

export const HOST = 'xks.example.com';
export const REGION = 'us-east-1';
export const STORE_ID = 'ks-1';
export const KEY_ID = 'key-1';
export const CREDENTIAL: XksSigningCredential = { accessKeyId: 'AKIDEXAMPLEAAAABBBBCC', secretAccessKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==' };
export const SECOND_CREDENTIAL: XksSigningCredential = { accessKeyId: 'AKIDEXAMPLEDDDDEEEE22', secretAccessKey: 'b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlcg==' };

export interface CallOptions {
  readonly method?: string;
  readonly credential?: XksSigningCredential;
  readonly region?: string;
  readonly signingDate?: Date;
  readonly unsigned?: boolean;
  /** Raw body bytes instead of JSON.stringify(body). */
  readonly rawBody?: Buffer;
  readonly tamper?: (request: XksRequest) => XksRequest;
  readonly clientCertificateVerified?: boolean;
  readonly clientCertificateSubjectCn?: string;
}

export interface CallResult {
  readonly response: XksResponse;
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary response fields
  readonly json: any;
}

export function operationPath(operation: 'health' | 'metadata' | 'encrypt' | 'decrypt', keyId = KEY_ID, storeId = STORE_ID): string {
  const base = xksProxyUriPath(storeId);
  return operation === 'health' ? `${base}/health` : `${base}/keys/${keyId}/${operation}`;
}

export function proxyFixture(
  options: XksProxyOptions = {},
  extraDeps: {
    readonly metrics?: XksMetrics;
    readonly credentialUsage?: CredentialUsage;
    readonly keyCrypto?: KeyCrypto;
    /** Instead of the recorder (whose lines the tests read): the production logger, in scripts/bench-alb.ts. */
    readonly logger?: XksLogger;
    /** The init rehearsal's logger (XksProxyDeps.rehearsalLogger). */
    readonly rehearsalLogger?: XksLogger;
    /** The store's success audit: the full line (the default here) or, false, the compact line AWS KMS stores get by default. */
    readonly enableSuccessAuditEvent?: boolean;
  } = {},
) {
  const keyCrypto = new MemoryKeyCrypto();
  const state = new MemoryXksState();
  const secrets = new MemorySecretStore();
  const logger = new RecordingLogger();
  const healthCheckKey = keyCrypto.addKey('health-check');
  const sourceKey = keyCrypto.addKey('source-v0');
  const credentials = [
    { id: 'cred-1', accessKeyId: CREDENTIAL.accessKeyId, secretName: `xks-key-manager/xks/${STORE_ID}/cred-1` },
    { id: 'cred-2', accessKeyId: SECOND_CREDENTIAL.accessKeyId, secretName: `xks-key-manager/xks/${STORE_ID}/cred-2` },
  ];
  void secrets.put(credentials[0].secretName, CREDENTIAL.secretAccessKey);
  void secrets.put(credentials[1].secretName, SECOND_CREDENTIAL.secretAccessKey);
  const store: XksKeyStoreView = {
    id: STORE_ID,
    name: 'store-1',
    region: REGION,
    blocked: false,
    mtlsEnabled: false,
    enableSuccessAuditEvent: extraDeps.enableSuccessAuditEvent ?? true,
    partition: TEST_PARTITION,
    healthCheckKey,
    credentials,
  };
  state.putKeyStore(store);
  const key: XksKeyView = { externalKeyId: KEY_ID, awsKeyId: 'aws-key-1', keyStoreId: STORE_ID, blocked: false, currentVersion: 0, versions: [{ version: 0, key: sourceKey }] };
  state.putKey(key);
  const proxy = new XksProxy(
    { state, secrets, metrics: extraDeps.metrics, credentialUsage: extraDeps.credentialUsage, logger: extraDeps.logger ?? logger, rehearsalLogger: extraDeps.rehearsalLogger, keyCrypto: extraDeps.keyCrypto ?? keyCrypto },
    { stateMaxAgeMs: 0, ...options },
  );

  async function call(path: string, body: unknown, callOptions: CallOptions = {}): Promise<CallResult> {
    const rawBody = callOptions.rawBody ?? Buffer.from(JSON.stringify(body));
    const headers = callOptions.unsigned
      ? { host: HOST, 'content-type': 'application/json' }
      : await signWithSmithy({
          credential: callOptions.credential ?? CREDENTIAL,
          region: callOptions.region ?? REGION,
          host: HOST,
          path,
          body: rawBody,
          method: callOptions.method,
          signingDate: callOptions.signingDate,
        });
    let request: XksRequest = {
      method: callOptions.method ?? 'POST',
      path,
      headers,
      rawBody,
      clientCertificateVerified: callOptions.clientCertificateVerified,
      clientCertificateSubjectCn: callOptions.clientCertificateSubjectCn,
    };
    if (callOptions.tamper) request = callOptions.tamper(request);
    const response = await proxy.handle(request);
    return { response, status: response.status, json: response.body ? JSON.parse(response.body) : undefined };
  }

  return { proxy, keyCrypto, state, secrets, logger, store, key, sourceKey, healthCheckKey, credentials, call };
}
