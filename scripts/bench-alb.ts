/**
 * In-process benchmark of the production entry point (`npx tsx scripts/bench-alb.ts`): ALB events
 * in, ALB results out, through `createAlbHandler` and the XksProxy core, with no HTTP or TLS. A
 * benchmark, not a test: it prints numbers.
 *
 *   npx tsx scripts/bench-alb.ts [--requests 20000] [--warmup 2000]
 *
 * State and crypto are in memory (test/xks/support/proxy-fixture.ts: the same in-memory state the
 * unit tests use, Node's AES-256-GCM standing in for the HSM; the production logger writing into a sink), so
 * what it measures is the entry's and the proxy's own CPU per request: ALB event translation,
 * SigV4 verification, parsing, the caches, the request log line and the response. Requests are
 * signed before the timed loop. Run it with `taskset -c 1` to keep it on one core.
 */
import type { ALBEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createAlbHandler } from '../lambdas/xks-proxy/entry/alb-handler';
import { BatchedLogger } from '../lambdas/xks-proxy/observability/batched-logger';
import { METRICS } from '../lambdas/contract/env';
import { decryptBody, encryptBody, healthBody, metadataBody, type EncryptOutput } from '../test/xks/support/bodies';
import { CREDENTIAL, HOST, operationPath, proxyFixture, REGION } from '../test/xks/support/proxy-fixture';
import { signWithSmithy } from '../test/xks/support/signing';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '20000' }, warmup: { type: 'string', default: '2000' } } });
const REQUESTS = Number(values.requests);
const WARMUP = Number(values.warmup);

async function main(): Promise<void> {
  // The production logger (the compact request line, as AWS KMS stores have by default), writing
  // its batches into a sink: the numbers carry the line's making but not a pipe's or terminal's speed.
  const logger = new BatchedLogger({ serviceName: METRICS.service }, { output: { write: () => true } });
  const fixture = proxyFixture({ stateMaxAgeMs: 4_000 }, { logger, enableSuccessAuditEvent: false });
  const handle = createAlbHandler(fixture.proxy, { trustMtlsHeaders: false });

  const event = async (operation: 'health' | 'metadata' | 'encrypt' | 'decrypt', body: unknown): Promise<ALBEvent> => {
    const path = operationPath(operation);
    const raw = JSON.stringify(body);
    const headers = await signWithSmithy({ credential: CREDENTIAL, region: REGION, host: HOST, path, body: raw });
    return { requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/xks/1' } }, httpMethod: 'POST', path, headers, body: raw, isBase64Encoded: false };
  };
  const sealed = JSON.parse((await handle(await event('encrypt', encryptBody(randomBytes(32))))).body ?? '{}') as EncryptOutput;
  const scenarios: [string, ALBEvent][] = [
    ['GetHealthStatus', await event('health', healthBody())],
    ['GetKeyMetadata', await event('metadata', metadataBody())],
    ['Encrypt 32 B', await event('encrypt', encryptBody(randomBytes(32)))],
    ['Encrypt 4,300 B', await event('encrypt', encryptBody(randomBytes(4300)))],
    ['Decrypt', await event('decrypt', decryptBody(sealed))],
  ];

  console.log(`ALB handler in process: ${REQUESTS} requests per scenario after ${WARMUP} warm-up, one at a time (Node.js ${process.version})`);
  console.log(['scenario', 'CPU ms/req', 'wall ms/req', 'status'].join('\t'));
  for (const [name, albEvent] of scenarios) {
    for (let i = 0; i < WARMUP; i += 1) await handle(albEvent);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    let status = 0;
    for (let i = 0; i < REQUESTS; i += 1) status = (await handle(albEvent)).statusCode;
    const wall = (performance.now() - started) / REQUESTS;
    const cpu = process.cpuUsage(cpuBefore);
    console.log([name, ((cpu.user + cpu.system) / 1000 / REQUESTS).toFixed(3), wall.toFixed(3), status].join('\t'));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
