/**
 * DynamoDB failures that say nothing about the request's conditions, as the domain's 503
 * (`ServiceUnavailableError`): throttling, service errors and requests that got no answer. Every
 * other error is returned unchanged (a ValidationException is a bug here: it stays a 500).
 *
 * A write is "outcome unknown" unless DynamoDB answered its only attempt with a refusal that
 * applied nothing (throttling, a cancelled transaction): a timeout, a 5xx, or retries that ran out
 * after an attempt that got no answer may have been applied.
 */
import { ServiceUnavailableError } from '../../core/errors';

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'TransactionInProgressException']);
const SERVICE_FAILURES = new Set(['InternalServerError', 'ServiceUnavailable', 'ServiceUnavailableException', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
const THROTTLED_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

interface SdkError {
  readonly name?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
  readonly CancellationReasons?: readonly { readonly Code?: string }[];
}

export function stateStoreFailure(error: unknown, write: boolean): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const e = error as SdkError;
  const name = e.name ?? '';
  const attempts = e.$metadata?.attempts ?? 1;
  const throttledTransaction = name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => THROTTLED_REASONS.has(r.Code ?? ''));
  if (THROTTLING.has(name) || throttledTransaction) {
    return new ServiceUnavailableError('The state store is busy (DynamoDB throttled the request); retry after the Retry-After seconds', { outcomeUnknown: write && attempts > 1, retryAfterSeconds: 2, cause: error });
  }
  const status = e.$metadata?.httpStatusCode;
  if (SERVICE_FAILURES.has(name) || (status !== undefined && status >= 500) || NETWORK_CODES.has(e.code ?? '')) {
    return new ServiceUnavailableError('The state store is not answering (DynamoDB service error); retry after the Retry-After seconds', { outcomeUnknown: write, retryAfterSeconds: 1, cause: error });
  }
  return error;
}
