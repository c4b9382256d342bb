/** Pkcs11Module.hold: work that outlives its call (a close left to a worker) keeps the module from being idle. */
import { Deadline } from '../../../lambdas/adapters/pkcs11/deadline';
import { Pkcs11Module } from '../../../lambdas/adapters/pkcs11/module';

describe('Pkcs11Module.hold', () => {
  it('keeps the module busy until released, once, however often the release is called', async () => {
    // Arrange
    const module = new Pkcs11Module('/no/library/needed.so');
    let idle = false;
    // Act
    const release = module.hold()!;
    const second = module.hold()!;
    void module.whenIdle().then(() => (idle = true));
    release();
    release();
    await new Promise((resolve) => setImmediate(resolve));
    const idleWithOneHold = idle;
    second();
    await new Promise((resolve) => setImmediate(resolve));
    // Assert
    expect(idleWithOneHold).toBe(false);
    expect(idle).toBe(true);
  });

  it('is refused while a re-initialisation is under way (its C_Finalize ends every session anyway)', async () => {
    // Arrange: a hold keeps the re-initialisation draining.
    const module = new Pkcs11Module('/no/library/needed.so');
    const release = module.hold()!;
    const reinitialized = module.reinitialize(module.generation, 0, new Deadline(1_000)).then(
      () => 'done',
      () => 'failed (no library here)',
    );
    // Act
    const during = module.hold();
    release();
    await reinitialized;
    // Assert
    expect(during).toBeUndefined();
    expect(module.hold()).toEqual(expect.any(Function));
  });
});
