/**
 * AWS KMS (and STS, when a container's role is assumed for it) failures turned into the project's
 * error classes, in one table, so that no SDK error reaches the core. Every message says what AWS
 * said, in which account and region, and through which role.
 *
 *  - AccessDeniedException (and STS's AccessDenied) → 403 naming the account and the role;
 *  - throttling → retried here with exponential backoff and full jitter, then 503;
 *  - ValidationException → 400 naming the API field the KMS parameter comes from;
 *  - custom key store errors → 400 for settings AWS KMS or the proxy refused, 409 for a name or
 *    endpoint already in use and for a store in the wrong state or with keys left;
 *  - KMS key errors → 409 for a key in the wrong state or disabled, an alias in use, a limit;
 *    400 for a malformed policy, alias name or tag;
 *  - KMS's own faults, timeouts and unknown errors → 502.
 */
import { ConflictError, DependencyError, ForbiddenError, KeyManagerError, NotFoundError, ServiceUnavailableError, ValidationError, isError } from '../../core/errors';
import type { KmsLocation } from '../../core/ports/aws-kms';

/** The API field each CreateCustomKeyStore / UpdateCustomKeyStore parameter comes from. */
export const KMS_PARAMETER_FIELDS: Readonly<Record<string, string>> = {
  CustomKeyStoreName: 'name',
  NewCustomKeyStoreName: 'name',
  XksProxyUriEndpoint: 'aws_param.xks_proxy_uri_endpoint',
  XksProxyUriPath: 'aws_param.xks_proxy_uri_path',
  XksProxyConnectivity: 'aws_param.xks_proxy_connectivity',
  XksProxyVpcEndpointServiceName: 'aws_param.xks_proxy_vpc_endpoint_service_name',
  XksProxyAuthenticationCredential: 'access_key_id',
  CustomKeyStoreId: 'aws_param.custom_key_store_id',
  CloudHsmClusterId: 'aws_param.cloud_hsm_cluster_id',
  TrustAnchorCertificate: 'aws_param.trust_anchor_certificate',
  KeyStorePassword: 'aws_param.key_store_password',
  // KMS key operations (the AWS key routes' fields).
  AliasName: 'alias',
  Description: 'description',
  Policy: 'policy',
  PendingWindowInDays: 'days',
  TagKeys: 'tags',
  // BYOK upload (the upload route's fields).
  ValidTo: 'aws_param.ValidTo',
  KeySpec: 'aws_param.CustomerMasterKeySpec',
  KeyUsage: 'aws_param.KeyUsage',
  MultiRegion: 'aws_param.MultiRegion',
};

/** How each custom key store exception is answered: its class and, for 400s, the field it concerns. */
const CUSTOM_KEY_STORE_ERRORS: Readonly<Record<string, { readonly status: 400 | 409; readonly field?: string }>> = {
  CustomKeyStoreNameInUseException: { status: 409, field: 'name' },
  XksProxyUriEndpointInUseException: { status: 409, field: 'aws_param.xks_proxy_uri_endpoint' },
  XksProxyUriInUseException: { status: 409, field: 'aws_param.xks_proxy_uri_endpoint' },
  XksProxyVpcEndpointServiceInUseException: { status: 409, field: 'aws_param.xks_proxy_vpc_endpoint_service_name' },
  CustomKeyStoreInvalidStateException: { status: 409 },
  CustomKeyStoreHasCMKsException: { status: 409 },
  CustomKeyStoreNotFoundException: { status: 409, field: 'aws_param.custom_key_store_id' },
  KMSInvalidStateException: { status: 409 },
  LimitExceededException: { status: 409 },
  XksKeyAlreadyInUseException: { status: 409 },
  XksProxyUriUnreachableException: { status: 400, field: 'aws_param.xks_proxy_uri_endpoint' },
  XksProxyInvalidResponseException: { status: 400, field: 'aws_param.xks_proxy_uri_endpoint' },
  XksProxyInvalidConfigurationException: { status: 400, field: 'aws_param.xks_proxy_connectivity' },
  XksProxyIncorrectAuthenticationCredentialException: { status: 400 },
  XksProxyVpcEndpointServiceNotFoundException: { status: 400, field: 'aws_param.xks_proxy_vpc_endpoint_service_name' },
  XksProxyVpcEndpointServiceInvalidConfigurationException: { status: 400, field: 'aws_param.xks_proxy_vpc_endpoint_service_name' },
  XksKeyNotFoundException: { status: 400 },
  XksKeyInvalidConfigurationException: { status: 400 },
  UnsupportedOperationException: { status: 400 },
  InvalidArnException: { status: 400 },
  // CloudHSM key stores.
  CloudHsmClusterNotFoundException: { status: 400, field: 'aws_param.cloud_hsm_cluster_id' },
  CloudHsmClusterNotActiveException: { status: 409, field: 'aws_param.cloud_hsm_cluster_id' },
  CloudHsmClusterInUseException: { status: 409, field: 'aws_param.cloud_hsm_cluster_id' },
  CloudHsmClusterNotRelatedException: { status: 400, field: 'aws_param.cloud_hsm_cluster_id' },
  CloudHsmClusterInvalidConfigurationException: { status: 400, field: 'aws_param.cloud_hsm_cluster_id' },
  IncorrectTrustAnchorException: { status: 400, field: 'aws_param.trust_anchor_certificate' },
  // KMS key operations.
  AlreadyExistsException: { status: 409, field: 'alias' },
  DisabledException: { status: 409 },
  InvalidAliasNameException: { status: 400, field: 'alias' },
  MalformedPolicyDocumentException: { status: 400, field: 'policy' },
  TagException: { status: 400, field: 'tags' },
  // Imported key material.
  IncorrectKeyMaterialException: { status: 409 },
  ExpiredImportTokenException: { status: 409 },
};

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException', 'InvalidClientTokenId']);
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded']);

/** What was being done, for the messages. */
export interface KmsCallContext {
  readonly at: KmsLocation;
  /** The AWS operation, e.g. `CreateCustomKeyStore` or `sts:AssumeRole`. */
  readonly operation: string;
}

/** The name and message of an SDK error (or anything thrown). */
function describe(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

export function isThrottling(error: unknown): boolean {
  const retryable = (error as { $retryable?: { throttling?: boolean } } | undefined)?.$retryable;
  return THROTTLING.has(describe(error).name) || retryable?.throttling === true;
}

/** The identity the key manager acts as in the account, for messages. */
export function actingAs(at: KmsLocation): string {
  return at.assumeRoleArn === undefined ? "the key manager's own role" : `role ${at.assumeRoleArn}`;
}

function where(at: KmsLocation): string {
  return `account ${at.accountId} (${at.region})`;
}

/** The API field a ValidationException concerns: the first KMS parameter its message names. */
function fieldOfValidationMessage(message: string): string | undefined {
  const lower = message.toLowerCase();
  const [parameter] = Object.keys(KMS_PARAMETER_FIELDS)
    .filter((name) => lower.includes(name.toLowerCase()))
    // The longest match wins, so `XksProxyUriEndpoint` is not read as `XksProxyUri...` of another.
    .sort((a, b) => b.length - a.length);
  return parameter === undefined ? undefined : KMS_PARAMETER_FIELDS[parameter];
}

/** Translates one AWS failure (after retries) into a KeyManagerError. */
export function translateKmsError(error: unknown, context: KmsCallContext): KeyManagerError {
  const { name, message } = describe(error);
  const { at, operation } = context;
  const said = `AWS KMS ${operation} in ${where(at)}: ${name}: ${message}`;
  if (ACCESS_DENIED.has(name)) {
    return new ForbiddenError(
      `AWS denied ${operation} in ${where(at)} to ${actingAs(at)}: ${message}. The role needs the KMS permissions listed in README ("Deploying to AWS")`,
      { cause: error },
    );
  }
  if (isThrottling(error)) {
    return new ServiceUnavailableError(`AWS KMS is throttling ${operation} in ${where(at)} (${name}: ${message}); try again in a few seconds`, { cause: error });
  }
  if (name === 'ValidationException') {
    return new ValidationError(`AWS KMS refused it: ${message}`, fieldOfValidationMessage(message), { cause: error });
  }
  if (name === 'NotFoundException') {
    return new NotFoundError('AWS KMS key', message, { cause: error });
  }
  const known = CUSTOM_KEY_STORE_ERRORS[name];
  if (known?.status === 409) return new ConflictError(known.field ? `${known.field}: ${said}` : said, { cause: error });
  if (known?.status === 400) return new ValidationError(said, known.field, { cause: error });
  return new DependencyError(`${said}`, { cause: error });
}

export interface RetryOptions {
  /** Attempts in all, the first one included. @default 4 */
  readonly attempts?: number;
  /** The first backoff's upper bound; each retry doubles it. @default 100 */
  readonly baseDelayMs?: number;
  /** Waits; tests pass one that does not. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). @default Math.random */
  readonly random?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call`, retrying throttled attempts (AWS executed none of them) with exponential backoff and
 * full jitter; any other failure, and the last throttled one, is translated and thrown.
 */
export async function callKms<T>(context: KmsCallContext, call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      // Already ours (e.g. the role could not be assumed for this call).
      if (isError(error, KeyManagerError)) throw error;
      if (!isThrottling(error) || attempt >= attempts) throw translateKmsError(error, context);
      await sleep(Math.floor(random() * baseDelayMs * 2 ** (attempt - 1)));
    }
  }
}
