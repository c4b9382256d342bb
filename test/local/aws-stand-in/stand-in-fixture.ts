/**
 * A local AWS stand-in for a test suite, with real SDK clients pointed at it:
 *
 *   const aws = await standInFixture();
 *   await aws.kms.send(new CreateKeyCommand({}));
 *   await aws.stop();
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsStandIn, type AwsStandIn, type AwsStandInOptions } from '../../../lambdas/local/aws-stand-in';

export interface StandInCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface StandInFixture {
  readonly standIn: AwsStandIn;
  readonly stateDir: string;
  /** KMS client of the default account in the default region. */
  readonly kms: KMSClient;
  readonly sts: STSClient;
  kmsFor(credentials: StandInCredentials, region?: string): KMSClient;
  stsFor(credentials: StandInCredentials, region?: string): STSClient;
  /** Stops the stand-in; the state folder is removed unless `keepState`. */
  stop(options?: { readonly keepState?: boolean }): Promise<void>;
}

export async function standInFixture(options: Partial<AwsStandInOptions> = {}): Promise<StandInFixture> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'aws-stand-in-'));
  const standIn = await startAwsStandIn({ xksProxyBaseUrl: 'https://127.0.0.1:9', ...options, stateDir });
  // maxAttempts 1: a test sees exactly what the server answered (no SDK retries of throttling).
  const kmsFor = (credentials: StandInCredentials, region = standIn.region): KMSClient =>
    new KMSClient({ endpoint: standIn.endpointUrl, region, credentials, maxAttempts: 1 });
  const stsFor = (credentials: StandInCredentials, region = standIn.region): STSClient =>
    new STSClient({ endpoint: standIn.endpointUrl, region, credentials, maxAttempts: 1 });
  const clients: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(client: T): T => {
    clients.push(client);
    return client;
  };
  return {
    standIn,
    stateDir,
    kms: track(kmsFor(standIn)),
    sts: track(stsFor(standIn)),
    kmsFor: (credentials, region) => track(kmsFor(credentials, region)),
    stsFor: (credentials, region) => track(stsFor(credentials, region)),
    async stop(stopOptions = {}) {
      for (const client of clients) client.destroy();
      await standIn.stop();
      if (!stopOptions.keepState && options.stateDir === undefined) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** The rejection's exception name and message (fails the test if the promise resolves). */
export async function failureOf(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail, and it succeeded');
}

/**
 * Runs the AWS CLI (`aws <args> --endpoint-url <stand-in> --output json`) with the given
 * credentials and no user configuration (v1 and v2 alike: pass blobs as `fileb://`); resolves with the parsed JSON output (undefined when the
 * command prints nothing), rejects with the CLI's stderr.
 */
export function runAwsCli(standIn: AwsStandIn, args: readonly string[], credentials: StandInCredentials = standIn): Promise<unknown> {
  // CLI v1 fetches parameter values that look like URLs (an XKS endpoint) unless told not to.
  const configFile = join(tmpdir(), 'aws-stand-in-cli-config');
  writeFileSync(configFile, '[default]\ncli_follow_urlparam = false\n');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...(process.env.PYENV_ROOT ? { PYENV_ROOT: process.env.PYENV_ROOT } : {}),
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_DEFAULT_REGION: standIn.region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
  };
  return new Promise((resolve, reject) => {
    execFile('aws', [...args, '--endpoint-url', standIn.endpointUrl, '--output', 'json'], { env, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`aws ${args.slice(0, 2).join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout.trim() ? JSON.parse(stdout) : undefined);
    });
  });
}
