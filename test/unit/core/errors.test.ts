/**
 * The management API's errors: `instanceof KeyManagerError` recognises an error made by another
 * copy of core/errors.ts in the same process (a deployed bundle running on ports registered from
 * outside it, as the bundle tests do), while subclasses keep the ordinary check.
 */
import { ConflictError, KeyManagerError, NotFoundError, ValidationError } from '../../../lambdas/core/errors';

/** A second, separately loaded copy of the errors module (its classes are distinct objects). */
function otherCopy(): typeof import('../../../lambdas/core/errors') {
  let copy: typeof import('../../../lambdas/core/errors') | undefined;
  jest.isolateModules(() => {
    copy = require('../../../lambdas/core/errors') as typeof import('../../../lambdas/core/errors');
  });
  return copy!;
}

describe('KeyManagerError', () => {
  it('recognises an error of another copy of the module as a KeyManagerError', () => {
    // Arrange
    const copy = otherCopy();
    const foreign = new copy.NotFoundError('Key', 'k-1');
    // Act / Assert
    expect(copy.NotFoundError).not.toBe(NotFoundError);
    expect(foreign instanceof KeyManagerError).toBe(true);
    expect((foreign as KeyManagerError).statusCode).toBe(404);
  });

  it('keeps the ordinary check for subclasses and for anything else', () => {
    // Arrange
    const conflict = new ConflictError('in use');
    // Act / Assert
    expect(conflict instanceof NotFoundError).toBe(false);
    expect(conflict instanceof ConflictError).toBe(true);
    expect(new ValidationError('bad', 'name') instanceof KeyManagerError).toBe(true);
    expect(new Error('plain') instanceof KeyManagerError).toBe(false);
    expect({ statusCode: 400 } instanceof KeyManagerError).toBe(false);
    expect((null as unknown) instanceof KeyManagerError).toBe(false);
  });
});
