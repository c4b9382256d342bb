/**
 * A local AWS stand-in for a test suite, with real SDK clients pointed at it:
 *
 *   const aws = await standInFixture();
 *   await aws.kms.send(new CreateKeyCommand({}));
 *   await aws.stop();
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';
import { mkdtempSync, rmSync } from 'node:fs';
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
