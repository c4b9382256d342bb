/**
 * The building blocks of the HSM agent protocol's argument checks (hsm-agent-protocol.ts,
 * hsm-key-checks.ts): each check returns the value or throws HsmAgentRequestError naming the field.
 */

/** A payload that is not a valid request; the message names the offending field. */
export class HsmAgentRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HsmAgentRequestError';
  }
}

export type Check<T> = (value: unknown, path: string) => T;

export const fail = (path: string, expected: string): never => {
  throw new HsmAgentRequestError(`${path} must be ${expected}`);
};

export const record = (value: unknown, path: string): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : fail(path, 'an object');

export const text: Check<string> = (value, path) => (typeof value === 'string' && value.length > 0 ? value : fail(path, 'a non-empty string'));

