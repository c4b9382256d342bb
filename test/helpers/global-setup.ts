/**
 * jest globalSetup: one DynamoDB Local (in memory) and one SoftHSM2 token folder for the whole
 * run. Values go to process.env, which jest's workers inherit (they start after this returns):
 * - DYNAMODB_ENDPOINT: the DynamoDB Local endpoint (suites create their own tables);
 * - SOFTHSM2_CONF: a config whose tokendir is a fresh temp folder (suites create their own
 *   tokens with unique labels, see test/helpers/softhsm.ts);
 * - dummy AWS credentials and region (lambdas/local/local-aws-env.ts).
 * global-teardown.ts stops and removes all of it.
 *
 * A run restricted to test/unit or test/infra (e.g. `npx jest test/unit`) needs no external
 * process, so DynamoDB Local is not started for it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../lambdas/contract/env';
import { applyLocalAwsEnv } from '../../lambdas/local/local-aws-env';
import { writeSoftHsmConfig } from '../../lambdas/local/softhsm-token';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../lambdas/local/dynamodb-local';

/** The part of jest's GlobalConfig read here. */
interface JestGlobalConfig {
  readonly testPathPatterns: { readonly patterns: readonly string[] };
}

/** What globalSetup started, for globalTeardown. */
export interface TestRun {
  /** Removed by teardown: SoftHSM2 tokens and anything else the run wrote to disk. */
  readonly tempDir: string;
  readonly dynamoDb?: DynamoDbLocal;
}

// Both hooks run in jest's main process but are loaded as separate modules: a global carries it.
const RUN_KEY = Symbol.for('key-manager.test-run');
type RunHolder = { [RUN_KEY]?: TestRun };

const NO_PROCESS_FOLDERS = /(^|[\\/])test[\\/](unit|infra)([\\/]|$)/;

function needsDynamoDb(globalConfig: JestGlobalConfig): boolean {
  const patterns = globalConfig.testPathPatterns.patterns;
  return patterns.length === 0 || !patterns.every((pattern) => NO_PROCESS_FOLDERS.test(pattern));
}

export default async function globalSetup(globalConfig: JestGlobalConfig): Promise<void> {
  applyLocalAwsEnv();
  const tempDir = mkdtempSync(join(tmpdir(), 'key-manager-test-'));
  process.env.SOFTHSM2_CONF = writeSoftHsmConfig(join(tempDir, 'softhsm'));
  const dynamoDb = needsDynamoDb(globalConfig) ? await startDynamoDbLocal() : undefined;
  if (dynamoDb) process.env[ENV.dynamoDbEndpoint] = dynamoDb.endpoint;
  (globalThis as RunHolder)[RUN_KEY] = { tempDir, dynamoDb };
}

/** Hands what globalSetup started to globalTeardown (once). */
export function takeTestRun(): TestRun | undefined {
  const run = (globalThis as RunHolder)[RUN_KEY];
  delete (globalThis as RunHolder)[RUN_KEY];
  return run;
}
