/**
 * AWS's error answers. Every refusal an operation makes is an AwsError: the exception name AWS
 * uses (`__type` on JSON services, `Code` on query services), a message in AWS's wording, and the
 * HTTP status AWS answers with. Throw one of the helpers below from an operation; the server
 * turns it into the wire shape of the protocol.
 */
export class AwsError extends Error {
  constructor(
    /** The exception name exactly as the SDK's models spell it, e.g. `NotFoundException`. */
    readonly type: string,
    message: string,
    /** AWS's HTTP status for it: 400 for almost every client error on KMS, 500 for internal ones. */
    readonly statusCode = 400,
    /** Query protocol (STS) only: who is at fault. */
    readonly fault: 'Sender' | 'Receiver' = statusCode >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = type;
  }
}

export const awsError = (type: string, message: string, statusCode = 400): AwsError => new AwsError(type, message, statusCode);

/**
 * `ValidationException` in the wording AWS's request validation uses:
 * "1 validation error detected: Value 'x' at 'keyId' failed to satisfy constraint: Member must ...".
 * `field` is the member name in lower camel case, as AWS writes it.
 */
export function validationError(field: string, value: unknown, constraint: string): AwsError {
  const shown = value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
  return new AwsError('ValidationException', `1 validation error detected: Value ${shown} at '${lowerCamel(field)}' failed to satisfy constraint: ${constraint}`);
}

/** KMS's `NotFoundException` (a key, alias or grant that does not exist in this account and region). */
export const notFound = (message: string): AwsError => new AwsError('NotFoundException', message);

/** KMS's `KMSInvalidStateException`: the key's state does not allow the operation. */
export const invalidKeyState = (message: string): AwsError => new AwsError('KMSInvalidStateException', message);

export const kmsInternal = (message = 'An internal error occurred.'): AwsError => new AwsError('KMSInternalException', message, 500);

export const unsupportedOperation = (message: string): AwsError => new AwsError('UnsupportedOperationException', message);

function lowerCamel(name: string): string {
  return name.length > 0 ? name[0].toLowerCase() + name.slice(1) : name;
}
