/**
 * One structured line per XKS request, success or failure (the spec: a proxy SHOULD log
 * kmsRequestId and how long each request took). A success writes a compact line (operation, store,
 * external key, kmsRequestId, result, latency); with the store's `enable_success_audit_event` on
 * it carries the full request metadata KMS sent instead. A failure always carries the metadata,
 * the errorName and its cause for the operator.
 *
 * The line is built from named fields only: plaintext, AAD, ciphertext, key material, secret
 * access keys and signatures have no field here and so cannot reach the log.
 */
import { HsmError } from '../../core/ports/hsm';
import type { XksError, XksFailureName } from '../errors';
import type { RequestMetadata } from '../operations/request-fields';
import type { XksOperation } from '../router';
import { isError } from '../../core/errors';

/** The subset of Powertools' Logger the proxy uses (tests pass a recorder). */
export interface XksLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export const AUDIT_MESSAGE = 'xks-request';

export interface AuditFields extends Partial<RequestMetadata> {
  operation?: XksOperation;
  method?: string;
  keyStoreId?: string;
  externalKeyId?: string;
  /** Which credential signed the request (an identifier, never the secret). */
  accessKeyId?: string;
}

export type AuditResult = 'Success' | XksFailureName;

function describeCause(cause: unknown): Record<string, unknown> | undefined {
  if (isError(cause, HsmError)) return { name: cause.name, reason: cause.reason, returnCode: cause.returnCode, message: cause.message };
  if (cause instanceof Error) return { name: cause.name, message: cause.message.slice(0, 512) };
  return cause === undefined ? undefined : { message: String(cause).slice(0, 512) };
}

export class AuditLog {
  constructor(private readonly logger: XksLogger) {}

  success(fields: AuditFields, latencyMs: number): void {
    this.logger.info(AUDIT_MESSAGE, { ...fields, result: 'Success' satisfies AuditResult, status: 200, latencyMs });
  }

  /** The compact success line: only what ties it to CloudTrail and how long it took. */
  successCompact(fields: AuditFields, kmsRequestId: string | undefined, latencyMs: number): void {
    this.logger.info(AUDIT_MESSAGE, {
      operation: fields.operation,
      keyStoreId: fields.keyStoreId,
      externalKeyId: fields.externalKeyId,
      kmsRequestId,
      result: 'Success' satisfies AuditResult,
      latencyMs,
    });
  }

  failure(fields: AuditFields, status: number, result: AuditResult, latencyMs: number, error?: XksError): void {
    const attributes = { ...fields, result, status, latencyMs, cause: describeCause(error?.cause) };
    if (status >= 500) this.logger.error(AUDIT_MESSAGE, attributes);
    else this.logger.warn(AUDIT_MESSAGE, attributes);
  }
}

/** Rounds to 0.01 ms so the log line stays short. */
export function roundLatency(ms: number): number {
  return Math.round(ms * 100) / 100;
}
