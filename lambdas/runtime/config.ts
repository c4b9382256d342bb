/**
 * The runtime configuration of the management API functions, read once per container from the
 * environment (names in contract/env.ts) by typed readers that fail fast and name the variable
 * (Powertools envUtils style). Services never read `process.env`; they get values from here.
 *
 * Settings only some functions need (the user pool for authenticated routes, the HSM agent
 * function for HSM routes) are optional here and required, by name, where they are used
 * (`requireSetting`), so that a function that does not need one does not need it set.
 */
import { resolve } from 'node:path';
import { ENV } from '../contract/env';
import type { HsmType } from '../contract/hsm';
import { pkcs11CallModeOverrides, pkcs11LibraryOverrides, type CipherCallMode } from '../adapters/pkcs11/config';

export type RuntimeMode = 'aws' | 'local';
export const RUNTIME_MODES: readonly RuntimeMode[] = ['aws', 'local'];

/** What the adapter sets read (ports.ts): every setting optional, required by name where a port needs it. */
export interface AdapterSettings {
  /** `aws` (the default): Cognito, Secrets Manager, the HSM agent Lambda. `local`: bin/local.ts's stand-ins. */
  readonly mode: RuntimeMode;
  readonly stateTableName?: string;
  /** DynamoDB Local's endpoint; unset on AWS. */
  readonly dynamoDbEndpoint?: string;
  /** aws mode: the Cognito user pool and app client whose access tokens the API accepts. */
  readonly userPoolId?: string;
  readonly userPoolClientId?: string;
  /** aws mode: the HSM agent function (routes with `needs.hsmAgent`). */
  readonly hsmAgentFunctionName?: string;
  /** Whether the deployment verifies XKS client certificates (an ALB trust store): only then may key stores enable mTLS. @default false */
  readonly mtlsTrustStore?: boolean;
  /** aws mode, functions that create secrets: the deployment's role ARN pattern for each secret's resource policy. */
  readonly secretsAllowedPrincipalArnPattern?: string;
  /** aws mode: prefix of every secret name (the deployment's namespace). */
  readonly secretNamePrefix?: string;
  /** aws mode, functions that create secrets: the KMS key that encrypts them. */
  readonly secretsKmsKeyId?: string;
  /** local mode: the folder of local state (secrets, token keys). @default `.local` under the working directory */
  readonly localStateDir: string;
  /** aws mode: JOB_QUEUE_URLS as the CDK wrote it (adapters/aws/sqs-job-queue.ts reads it). */
  readonly jobQueueUrls?: string;
  /** local mode: PKCS#11 library overrides per HSM type (the in-process HSM agent). */
  readonly pkcs11Libraries: Partial<Record<HsmType, string>>;
  /** Where PKCS#11 calls run, per HSM type, when ENV.pkcs11CallModes sets it (adapters/pkcs11/config.ts). */
  readonly pkcs11CallModes?: Partial<Record<HsmType, CipherCallMode>>;
  /**
   * local mode: the local AWS stand-in's STS (the SDK's own `AWS_ENDPOINT_URL_STS`, set by the local
   * runner). With it, account containers are described and their roles checked through STS as on
   * AWS; without it (tests of the management API alone) local mode has no AWS account.
   */
  readonly localStsEndpoint?: string;
  /**
   * The CloudHSMv2 endpoint (`AWS_ENDPOINT_URL_CLOUDHSM_V2`; locally the AWS stand-in, set by the
   * local runner; unset on AWS). The installable @aws-sdk/client-cloudhsm-v2 (3.332.0) predates the
   * SDK's endpoint variables, so the adapter is given it explicitly.
   */
  readonly cloudHsmEndpoint?: string;
  /** aws mode, job configuration routes: where schedules go and what they run (contract/env.ts). */
  readonly jobScheduleGroup?: string;
  readonly jobRunnerFunctionArn?: string;
  readonly jobSchedulerRoleArn?: string;
  readonly jobDeadLetterQueueArn?: string;
}

/** The management API's and the XKS proxy's configuration: the state table is required. */
export interface RuntimeConfig extends AdapterSettings {
  readonly stateTableName: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** A set, non-blank variable; throws naming it otherwise. */
export function readString(env: Env, name: string): string {
  const value = readOptionalString(env, name);
  if (value === undefined) throw new Error(`The environment variable ${name} is not set`);
  return value;
}

/** The trimmed value, or undefined when unset or blank. */
export function readOptionalString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** One of `allowed`, or `fallback` when unset; throws naming the variable and the allowed values otherwise. */
export function readChoice<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = readOptionalString(env, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`The environment variable ${name} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** A setting the caller needs now; throws naming its variable when it was not set. */
export function requireSetting(value: string | undefined, name: string): string {
  if (value === undefined) throw new Error(`The environment variable ${name} is not set (needed by this function)`);
  return value;
}

/** The HSM agent's configuration: no state table (it reads only partition PINs). */
export function loadHsmAgentConfig(env: Env = process.env): AdapterSettings {
  return {
    mode: readChoice(env, ENV.mode, RUNTIME_MODES, 'aws'),
    secretNamePrefix: readOptionalString(env, ENV.secretNamePrefix),
    localStateDir: resolve(readOptionalString(env, ENV.localStateDir) ?? '.local'),
    pkcs11Libraries: pkcs11LibraryOverrides(env),
    pkcs11CallModes: pkcs11CallModeOverrides(env),
    localStsEndpoint: readOptionalString(env, ENV.awsEndpointUrlSts),
  };
}

export function loadConfig(env: Env = process.env): RuntimeConfig {
  return {
    mode: readChoice(env, ENV.mode, RUNTIME_MODES, 'aws'),
    stateTableName: readString(env, ENV.stateTableName),
    dynamoDbEndpoint: readOptionalString(env, ENV.dynamoDbEndpoint),
    userPoolId: readOptionalString(env, ENV.userPoolId),
    userPoolClientId: readOptionalString(env, ENV.userPoolClientId),
    hsmAgentFunctionName: readOptionalString(env, ENV.hsmAgentFunctionName),
    mtlsTrustStore: readChoice(env, ENV.xksAlbMtlsVerify, ['true', 'false'], 'false') === 'true',
    secretsAllowedPrincipalArnPattern: readOptionalString(env, ENV.secretsAllowedPrincipalArnPattern),
    secretNamePrefix: readOptionalString(env, ENV.secretNamePrefix),
    secretsKmsKeyId: readOptionalString(env, ENV.secretsKmsKeyId),
    localStateDir: resolve(readOptionalString(env, ENV.localStateDir) ?? '.local'),
    pkcs11Libraries: pkcs11LibraryOverrides(env),
    pkcs11CallModes: pkcs11CallModeOverrides(env),
    localStsEndpoint: readOptionalString(env, ENV.awsEndpointUrlSts),
    cloudHsmEndpoint: readOptionalString(env, ENV.cloudHsmEndpoint),
    jobScheduleGroup: readOptionalString(env, ENV.jobScheduleGroup),
    jobRunnerFunctionArn: readOptionalString(env, ENV.jobRunnerFunctionArn),
    jobSchedulerRoleArn: readOptionalString(env, ENV.jobSchedulerRoleArn),
    jobDeadLetterQueueArn: readOptionalString(env, ENV.jobDeadLetterQueueArn),
    jobQueueUrls: readOptionalString(env, ENV.jobQueueUrls),
  };
}
