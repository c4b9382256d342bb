/**
 * The management API's error family (Powertools style: the status belongs to the class).
 * One middleware (runtime/api-handler.ts) turns these into the CCKM error body
 * `{code, codeDesc, message}`; anything else becomes a bare 500 and is logged, never sent.
 * Constructors never log.
 */
const KEY_MANAGER_ERROR = Symbol.for('xks-key-manager.KeyManagerError');

export abstract class KeyManagerError extends Error {
  abstract readonly statusCode: number;
  /** CCKM's `NCERR…` name, used in `codeDesc`. */
  abstract readonly code: string;
  readonly [KEY_MANAGER_ERROR] = true;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /**
   * `instanceof KeyManagerError` (the base class only) also recognises errors made by another copy
   * of this module in the same process, as when a bundle runs on ports registered from outside it
   * (runtime/adapter-set.ts); subclasses keep the ordinary check.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return this === KeyManagerError && typeof value === 'object' && value !== null && (value as { [KEY_MANAGER_ERROR]?: unknown })[KEY_MANAGER_ERROR] === true;
  }

  toJSON(): { code: number; codeDesc: string; message: string } {
    return { code: this.statusCode, codeDesc: `${this.code}: ${this.message}`, message: this.message };
  }
}

/** Bad input: names the offending field when there is one. */
export class ValidationError extends KeyManagerError {
  readonly statusCode = 400;
  readonly code = 'NCERRInvalidParamValue';
  constructor(
    message: string,
    readonly field?: string,
    options?: ErrorOptions,
  ) {
    super(field && !message.startsWith(field) ? `${field}: ${message}` : message, options);
  }
}

export class UnauthorizedError extends KeyManagerError {
  readonly statusCode = 401;
  readonly code = 'NCERRUnauthorizedAccess';
  constructor(message = 'Authentication is required', options?: ErrorOptions) {
    super(message, options);
  }
}

export class ForbiddenError extends KeyManagerError {
  readonly statusCode = 403;
  readonly code = 'NCERRForbidden';
  constructor(message = 'You are not permitted to perform this operation', options?: ErrorOptions) {
    super(message, options);
  }
}

export class NotFoundError extends KeyManagerError {
  readonly statusCode = 404;
  readonly code = 'NCERRResourceNotFound';
  constructor(resource: string, id: string, options?: ErrorOptions) {
    super(`${resource} ${JSON.stringify(id)} not found`, options);
  }
}

/** Duplicate name, wrong state, resource still in use, lost race. */
export class ConflictError extends KeyManagerError {
  readonly statusCode = 409;
  readonly code = 'NCERRConflict';
}

export class TooManyRequestsError extends KeyManagerError {
  readonly statusCode = 429;
  readonly code = 'NCERRTooManyRequests';
}

/** A dependency outside the project (AWS API, HSM) failed or is not available in this mode. */
export class DependencyError extends KeyManagerError {
  readonly statusCode = 502;
  readonly code = 'NCERRDependencyFailure';
}

/**
 * A dependency is overloaded or failing (AWS throttling that outlasted the retries, a DynamoDB
 * service error): 503 with `Retry-After`. `outcomeUnknown`: the request was a write that may have
 * been applied before the failure, so a caller that must undo something re-reads the state first.
 */
export class ServiceUnavailableError extends KeyManagerError {
  readonly statusCode = 503;
  readonly code = 'NCERRServiceUnavailable';
  readonly outcomeUnknown: boolean;
  /** Seconds the client should wait before trying again. */
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: ErrorOptions & { readonly outcomeUnknown?: boolean; readonly retryAfterSeconds?: number }) {
    super(message, options);
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }
}
