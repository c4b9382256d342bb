/**
 * Synchronization benchmark (`npm run bench:sync`): a benchmark, not a test — it prints numbers.
 *
 *   npm run bench:sync [-- --keys 10000] [--regions 3] [--rps 400]
 *
 * 1. Starts the local AWS stand-in in a child process (so that its N keys are not in this
 *    process's memory), with a throttle of `--rps` requests per second per read operation, account
 *    and region (ThrottlingException beyond it, as AWS's quotas answer), and DynamoDB Local.
 * 2. Creates `--keys` KMS keys spread over `--regions` regions, directly in that AWS KMS.
 * 3. Runs one AWS key synchronization of an account container over those regions with the
 *    production code: the job service, the job runner and its steps, the SDK adapter of AWS KMS and
 *    the DynamoDB state store, on the in-process job queue that `npm start` uses (the worker
 *    concurrency of the job table).
 * 4. Prints keys per second, wall time, worker invocations and the longest one, throttled calls
 *    (the stand-in's count), the unit steps by outcome and the job runner's backoffs (units queued
 *    again with a delay after a throttled step), and the peak heap and RSS of this process, where
 *    the workers run.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ENV } from '../lambdas/contract/env';
import { createStateTableIfMissing } from '../lambdas/adapters/dynamodb/state-table';
import { startDynamoDbLocal } from '../lambdas/local/dynamodb-local';
import type { UnitOutcome } from '../lambdas/core/jobs/job-runner';
import type { JobQueue } from '../lambdas/core/ports/job-queue';
import { InProcessJobQueue } from '../lambdas/local/adapters/in-process-job-queue';
import { useLocalAdapterSet } from '../lambdas/local/local-adapter-set';
import { applyLocalAwsEnv } from '../lambdas/local/local-aws-env';
import { startAwsStandIn } from '../lambdas/local/aws-stand-in';
import { loadConfig } from '../lambdas/runtime/config';
import { createDependencies, type Dependencies } from '../lambdas/runtime/dependencies';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1', 'us-west-2', 'eu-central-1', 'ap-northeast-1'];
const READS = ['ListKeys', 'DescribeKey', 'ListAliases', 'ListResourceTags', 'GetKeyPolicy', 'GetKeyRotationStatus'];
const TABLE = 'bench-sync-state';

interface StandInEndpoint { endpointUrl: string; accountId: string; accessKeyId: string; secretAccessKey: string }

/** Child mode: the stand-in, answering `stats` on stdin with its throttled count. */
async function serveStandIn(rps: number): Promise<void> {
  const throttle = rps > 0 ? { requestsPerSecond: Object.fromEntries(READS.map((op) => [op, rps])) } : undefined;
  const aws = await startAwsStandIn({ xksProxyBaseUrl: 'https://127.0.0.1:1', ...(throttle ? { throttle } : {}) });
  console.log(JSON.stringify({ endpointUrl: aws.endpointUrl, accountId: aws.accountId, accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey }));
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'stats') console.log(JSON.stringify({ throttled: aws.throttle.throttledCount, rssBytes: process.memoryUsage().rss }));
    if (line === 'stop') break;
  }
  await aws.stop();
  process.exit(0);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { keys: { type: 'string', default: '10000' }, regions: { type: 'string', default: '3' }, rps: { type: 'string', default: '400' }, 'serve-stand-in': { type: 'boolean', default: false } } });
  const rps = Number(values.rps);
  if (values['serve-stand-in']) return serveStandIn(rps);
  const keyCount = Number(values.keys);
  const regions = REGIONS.slice(0, Number(values.regions));
  applyLocalAwsEnv();

  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--serve-stand-in', '--rps', String(rps)], { stdio: ['pipe', 'pipe', 'inherit'], cwd: resolve(__dirname, '..') });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => (await lines.next()).value as string;
  const aws = JSON.parse(await nextLine()) as StandInEndpoint;
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-sync-'));
  const dynamoDb = await startDynamoDbLocal({});
  try {
    Object.assign(process.env, {
      [ENV.mode]: 'local', [ENV.stateTableName]: TABLE, [ENV.dynamoDbEndpoint]: dynamoDb.endpoint, [ENV.localStateDir]: stateDir,
      AWS_ENDPOINT_URL_KMS: aws.endpointUrl, AWS_ENDPOINT_URL_STS: aws.endpointUrl, AWS_ACCESS_KEY_ID: aws.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
    });
    const ddb = new DynamoDBClient({ endpoint: dynamoDb.endpoint });
    await createStateTableIfMissing(ddb, TABLE);
    ddb.destroy();

    console.log(`creating ${keyCount} keys over ${regions.join(', ')} in the local AWS KMS ...`);
    const createStarted = Date.now();
    const clients = regions.map((region) => new KMSClient({ endpoint: aws.endpointUrl, region, credentials: aws }));
    for (let i = 0; i < keyCount; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, keyCount - i) }, (_, j) => clients[(i + j) % regions.length].send(new CreateKeyCommand({ Description: `bench key ${i + j}` }))));
    }
    clients.forEach((c) => c.destroy());
    console.log(`created in ${((Date.now() - createStarted) / 1000).toFixed(1)} s`);

    useLocalAdapterSet();
    let deps: Dependencies | undefined;
    const outcomes: Partial<Record<UnitOutcome, number>> = {};
    const queue = new InProcessJobQueue({
      worker: async (unit) => {
        const outcome = await (deps as Dependencies).syncRunner.run(unit);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      },
    });
    // The runner's backoffs: units it queued again with a delay after a throttled (or failed) step.
    const backoffs: number[] = [];
    const jobQueue: JobQueue = {
      send: async (units, options) => {
        if ((options?.delaySeconds ?? 0) > 0) backoffs.push(...units.map(() => options?.delaySeconds ?? 0));
        return queue.send(units, options);
      },
    };
    deps = createDependencies(loadConfig(), { jobQueue });
    const now = new Date().toISOString();
    await deps.state.transact([{ op: 'create', kind: 'account', id: 'bench-account', data: { name: 'bench', accountId: aws.accountId, regions, status: 'active', acls: [], createdAt: now, updatedAt: now }, uniqueName: 'bench' }]);
    const admin = { principal: { subject: 'bench', username: 'bench', groups: ['cckm-admins'], isAdmin: true } };

    let peakRss = 0;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
    const started = performance.now();
    const job = await deps.jobs.start('AwsKeySynchronization', admin, { kms: ['bench'] });
    await queue.idle();
    const wallMs = performance.now() - started;
    clearInterval(sampler);
    const ended = await deps.jobs.get('AwsKeySynchronization', admin, job.id);
    child.stdin!.write('stats\n');
    const standIn = JSON.parse(await nextLine()) as { throttled: number };
    const stats = queue.stats;
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
    console.log(JSON.stringify({ status: ended.overall_status, found: ended.found, created: ended.created, updated: ended.updated, gone: ended.gone }));
    console.log(`keys: ${keyCount} over ${regions.length} regions, throttle ${rps > 0 ? `${rps} req/s per read operation and region` : 'off'}`);
    console.log(`wall time: ${(wallMs / 1000).toFixed(1)} s   keys/s: ${(ended.found / (wallMs / 1000)).toFixed(0)}`);
    console.log(`worker invocations: ${stats.invocations}   longest: ${stats.longestInvocationMs.toFixed(0)} ms   dead-lettered: ${stats.deadLettered}`);
    console.log(`throttled calls (ThrottlingException answered by AWS KMS): ${standIn.throttled}`);
    console.log(`unit steps: ${Object.entries(outcomes).map(([o, n]) => `${o} ${n}`).join(', ')}   backoffs after a throttled step: ${backoffs.length} (longest ${Math.max(0, ...backoffs)} s, ${backoffs.reduce((a, b) => a + b, 0)} s in all)`);
    console.log(`peak heap of the worker process: ${mib(stats.peakHeapBytes)}   peak RSS: ${mib(peakRss)}`);
    console.log(`load average (1/5/15 min): ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
  } finally {
    child.stdin!.write('stop\n');
    await dynamoDb.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
