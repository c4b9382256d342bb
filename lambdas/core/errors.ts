/**
 * The management API's error family (Powertools style: the status belongs to the class).
 * One middleware (runtime/api-handler.ts) turns these into the CCKM error body
 * `{code, codeDesc, message}`; anything else becomes a bare 500 and is logged, never sent.
 * Constructors never log.
 *
 * Errors are told apart with `isError(error, ConflictError)`, never with `instanceof`: one process
 * may hold two copies of this module (a deployed bundle running on the local adapter set, which is
 * built apart so that no bundle carries it: test/bundles), and `instanceof` knows only its own
 * copy's classes. Each class names its kind (`static readonly kind`, a literal, so minified bundles
 * keep it); an error carries the kinds of its class and of those above it under a per-process
 * symbol, which every copy reads.
 */
const KINDS = Symbol.for('xks-key-manager.error-kinds');

/** A class `isError` checks for: an Error class that names its kind. */
export interface ErrorKind<T extends Error> {
  readonly kind: string;
  readonly prototype: T;
}

/** Whether `value` is an error of `kind` (or of a class below it), made by any copy of its module. */
export function isError<T extends Error>(value: unknown, kind: ErrorKind<T>): value is T {
  const kinds = typeof value === 'object' && value !== null ? (value as { [KINDS]?: unknown })[KINDS] : undefined;
  return Array.isArray(kinds) && kinds.includes(kind.kind);
}

/** Records on `error` the kinds of `cls` and of the classes above it (for `isError`); the classes' constructors call it. */
export function recordErrorKinds(error: Error, cls: abstract new (...args: never[]) => Error): void {
  const kinds: string[] = [];
  for (let c: object | null = cls; c !== null && c !== Error; c = Object.getPrototypeOf(c) as object | null) {
    const kind: unknown = Object.getOwnPropertyDescriptor(c, 'kind')?.value;
    if (typeof kind === 'string') kinds.push(kind);
  }
  Object.defineProperty(error, KINDS, { value: kinds });
}

export abstract class KeyManagerError extends Error {
  static readonly kind: string = 'KeyManagerError';
  abstract readonly statusCode: number;
  /** CCKM's `NCERR…` name, used in `codeDesc`. */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    recordErrorKinds(this, new.target);
  }

  toJSON(): { code: number; codeDesc: string; message: string } {
    return { code: this.statusCode, codeDesc: `${this.code}: ${this.message}`, message: this.message };
  }
}

/** Bad input: names the offending field when there is one. */
export class ValidationError extends KeyManagerError {
  static override readonly kind: string = 'ValidationError';
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
  static override readonly kind: string = 'UnauthorizedError';
  readonly statusCode = 401;
  readonly code = 'NCERRUnauthorizedAccess';
  constructor(message = 'Authentication is required', options?: ErrorOptions) {
    super(message, options);
  }
}

export class ForbiddenError extends KeyManagerError {
  static override readonly kind: string = 'ForbiddenError';
  readonly statusCode = 403;
  readonly code = 'NCERRForbidden';
  constructor(message = 'You are not permitted to perform this operation', options?: ErrorOptions) {
    super(message, options);
  }
}

export class NotFoundError extends KeyManagerError {
  static override readonly kind: string = 'NotFoundError';
  readonly statusCode = 404;
  readonly code = 'NCERRResourceNotFound';
  constructor(resource: string, id: string, options?: ErrorOptions) {
    super(`${resource} ${JSON.stringify(id)} not found`, options);
  }
}

/** Duplicate name, wrong state, resource still in use, lost race. */
export class ConflictError extends KeyManagerError {
  static override readonly kind: string = 'ConflictError';
  readonly statusCode = 409;
  readonly code = 'NCERRConflict';
}

export class TooManyRequestsError extends KeyManagerError {
  static override readonly kind: string = 'TooManyRequestsError';
  readonly statusCode = 429;
  readonly code = 'NCERRTooManyRequests';
}

/** A dependency outside the project (AWS API, HSM) failed or is not available in this mode. */
export class DependencyError extends KeyManagerError {
  static override readonly kind: string = 'DependencyError';
  readonly statusCode = 502;
  readonly code = 'NCERRDependencyFailure';
}

/**
 * A dependency is overloaded or failing (AWS throttling that outlasted the retries, a DynamoDB
 * service error): 503 with `Retry-After`. `outcomeUnknown`: the request was a write that may have
 * been applied before the failure, so a caller that must undo something re-reads the state first.
 */
export class ServiceUnavailableError extends KeyManagerError {
  static override readonly kind: string = 'ServiceUnavailableError';
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
