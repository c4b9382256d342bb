/**
 * The production entry point as Lambda runs it: `alb-handler.ts`'s `handler`, built from the
 * environment by the composition root (local mode: DynamoDB Local state written by the control-plane
 * services, the file-based local secret store, PKCS#11 on a SoftHSM2 token), fed ALB events signed
 * by @smithy/signature-v4. Its metrics go to stdout as EMF, as on Lambda.
 */
import type { ALBEvent, ALBResult } from 'aws-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../lambdas/adapters/pkcs11/config';
import { LocalSecretStore } from '../../lambdas/local/adapters/local-secret-store';
import { ENV } from '../../lambdas/contract/env';
import { Pkcs11HsmAgent } from '../../lambdas/adapters/pkcs11/hsm-agent';
import { handler } from '../../lambdas/xks-proxy/entry/alb-handler';
import { lambdaContext } from '../helpers/api-events';
import { createTestToken } from '../helpers/softhsm';
import { decryptBody, encryptBody, healthBody, metadataBody } from './support/bodies';
import type { ProvisionedStore, StateBackend } from './support/conformance-env';
import { servicesBackend } from './support/services-backend';
import { signWithSmithy } from './support/signing';
import { useLocalAdapterSet } from '../../lambdas/local/local-adapter-set';

// Local mode's adapter set (the one KEY_MANAGER_MODE=local selects) is registered by local code only.
useLocalAdapterSet();

const HOST = 'xks.example.com';
let stateDir: string;
let backend: StateBackend;
let store: ProvisionedStore;
let keyId: string;
const written: string[] = [];
let restoreStdout: () => void;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'xks-alb-'));
  const token = await createTestToken({ prefix: 'alb' });
  const agent = new Pkcs11HsmAgent(pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), token.secretStore);
  backend = await servicesBackend({ secrets: new LocalSecretStore({ stateDir }) })({ token, agent });
  store = await backend.createStore({ enableSuccessAuditEvent: false });
  keyId = await backend.createKey(store.storeId);
  Object.assign(process.env, {
    [ENV.mode]: 'local',
    [ENV.stateTableName]: backend.stateTableName,
    [ENV.localStateDir]: stateDir,
    [ENV.xksProxyFleetSize]: '3',
  });
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  restoreStdout = () => {
    process.stdout.write = original;
  };
});

afterAll(async () => {
  restoreStdout?.();
  await backend?.dispose();
  rmSync(stateDir, { recursive: true, force: true });
});

async function invoke(operation: string, body: unknown, options: { base64?: boolean } = {}): Promise<{ result: ALBResult; json: any }> {
  const path = `/api/v1/cckm/aws/xks-proxy-endpoints/${store.storeId}/kms/xks/v1/${operation}`;
  const raw = JSON.stringify(body);
  const headers = await signWithSmithy({ credential: store.credentials[0], region: store.region, host: HOST, path, body: raw });
  const event: ALBEvent = {
    requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/xks/1' } },
    httpMethod: 'POST',
    path,
    headers: { ...headers, 'x-forwarded-for': '10.0.0.1', 'x-forwarded-proto': 'https' },
    body: options.base64 ? Buffer.from(raw).toString('base64') : raw,
    isBase64Encoded: options.base64 ?? false,
  };
  const result = await handler(event, lambdaContext('xks-proxy'));
  return { result, json: result.body ? JSON.parse(result.body) : undefined };
}

it('serves the four operations from the environment-built composition root', async () => {
  const health = await invoke('health', healthBody());
  expect(health.result.statusCode).toBe(200);
  expect(health.json.xksProxyFleetSize).toBe(3);

  const metadata = await invoke(`keys/${keyId}/metadata`, metadataBody());
  expect(metadata.json).toMatchObject({ keySpec: 'AES_256', keyStatus: 'ENABLED' });

  const plaintext = randomBytes(32);
  const sealed = await invoke(`keys/${keyId}/encrypt`, encryptBody(plaintext, { cdiv: true }), { base64: true });
  expect(sealed.result.statusCode).toBe(200);
  const opened = await invoke(`keys/${keyId}/decrypt`, decryptBody(sealed.json));
  expect(opened.json).toEqual({ plaintext: plaintext.toString('base64') });
});

it('answers GET /ping and publishes the contract metrics as EMF', async () => {
  const ping = await handler({ requestContext: { elb: { targetGroupArn: 'arn' } }, httpMethod: 'GET', path: '/ping', headers: {}, body: null, isBase64Encoded: false }, lambdaContext('xks-proxy'));
  expect(ping.statusCode).toBe(200);
  const metricNames = written
    .filter((line) => line.includes('"_aws"'))
    .flatMap((line) => (JSON.parse(line) as { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } })._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name));
  expect(new Set(metricNames)).toEqual(new Set(['XksLatency', 'XksRequests', 'HealthCheckPassed']));
});
