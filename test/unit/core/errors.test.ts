/**
 * Errors are told apart with `isError` (core/errors.ts): it recognises an error made by another
 * copy of the module in the same process (a deployed bundle running on the local adapter set built
 * apart, as the bundle tests do), for the base class, each subclass and HsmError alike, and tells
 * the kinds apart as `instanceof` does within one copy.
 */
import { ConflictError, isError, KeyManagerError, NotFoundError, ServiceUnavailableError, ValidationError } from '../../../lambdas/core/errors';
import { HsmError } from '../../../lambdas/core/ports/hsm';

type ErrorsModule = typeof import('../../../lambdas/core/errors');
type HsmModule = typeof import('../../../lambdas/core/ports/hsm');

/** A second, separately loaded copy of the errors and HSM port modules (their classes are distinct objects). */
function otherCopy(): { errors: ErrorsModule; hsm: HsmModule } {
  let copy: { errors: ErrorsModule; hsm: HsmModule } | undefined;
  jest.isolateModules(() => {
    copy = {
      errors: require('../../../lambdas/core/errors') as ErrorsModule,
      hsm: require('../../../lambdas/core/ports/hsm') as HsmModule,
    };
  });
  return copy!;
}

describe('isError', () => {
  it('recognises errors of another copy of the module by their kind, base class and subclasses alike', () => {
    // Arrange
    const copy = otherCopy();
    const foreignNotFound = new copy.errors.NotFoundError('Key', 'k-1');
    const foreignConflict = new copy.errors.ConflictError('in use');
    const foreignHsm = new copy.hsm.HsmError('DECRYPT_FAILED', 'CKR_ENCRYPTED_DATA_INVALID', 'tag mismatch');
    // Act / Assert
    expect(copy.errors.NotFoundError).not.toBe(NotFoundError);
    expect(copy.hsm.HsmError).not.toBe(HsmError);
    expect(foreignNotFound instanceof KeyManagerError).toBe(false);
    expect(isError(foreignNotFound, KeyManagerError)).toBe(true);
    expect(isError(foreignNotFound, NotFoundError)).toBe(true);
    expect(isError(foreignNotFound, ConflictError)).toBe(false);
    expect(isError(foreignConflict, ConflictError)).toBe(true);
    expect(isError(foreignHsm, HsmError)).toBe(true);
    expect(isError(foreignHsm, KeyManagerError)).toBe(false);
    expect(isError(foreignNotFound, HsmError)).toBe(false);
  });

  it('tells kinds apart within one copy as instanceof does, and nothing else is an error of a kind', () => {
    // Arrange
    const conflict = new ConflictError('in use');
    const unavailable = new ServiceUnavailableError('throttled', { outcomeUnknown: true });
    // Act / Assert
    expect(isError(conflict, NotFoundError)).toBe(false);
    expect(isError(conflict, ConflictError)).toBe(true);
    expect(isError(conflict, KeyManagerError)).toBe(true);
    expect(isError(unavailable, ServiceUnavailableError) && unavailable.outcomeUnknown).toBe(true);
    expect(isError(new ValidationError('bad', 'name'), KeyManagerError)).toBe(true);
    expect(isError(new Error('plain'), KeyManagerError)).toBe(false);
    expect(isError({ statusCode: 400, name: 'ConflictError' }, ConflictError)).toBe(false);
    expect(isError(null, KeyManagerError)).toBe(false);
    expect(isError('ConflictError', ConflictError)).toBe(false);
  });

  it('keeps the kind of a subclass declared elsewhere that names none of its own', () => {
    // Arrange: a subclass without its own `kind` (like the local gateway's errors) is still of its parents' kinds.
    class TeapotError extends ConflictError {}
    const teapot = new TeapotError('short and stout');
    // Act / Assert
    expect(isError(teapot, ConflictError)).toBe(true);
    expect(isError(teapot, KeyManagerError)).toBe(true);
    expect(teapot.name).toBe('TeapotError');
    expect(JSON.stringify(teapot.toJSON())).toBe(JSON.stringify({ code: 409, codeDesc: 'NCERRConflict: short and stout', message: 'short and stout' }));
  });
});
