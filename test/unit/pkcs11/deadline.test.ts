import { Deadline } from '../../../lambdas/adapters/pkcs11/deadline';
import { HsmError } from '../../../lambdas/core/ports/hsm';

describe('Deadline', () => {
  it('passes the outcome of a promise that settles within the budget', async () => {
    const deadline = new Deadline(1_000);

    await expect(deadline.race(Promise.resolve('done'), 'C_Encrypt')).resolves.toBe('done');
    await expect(deadline.race(Promise.reject(new Error('failed')), 'C_Encrypt')).rejects.toThrow('failed');
  });

  it('rejects with TIMEOUT naming the step when the promise does not settle in time', async () => {
    const deadline = new Deadline(5);

    const outcome = deadline.race(new Promise(() => undefined), 'C_Decrypt');

    await expect(outcome).rejects.toBeInstanceOf(HsmError);
    await expect(outcome).rejects.toMatchObject({ reason: 'TIMEOUT', message: expect.stringContaining('C_Decrypt') });
  });

  it('fails check and race at once when the budget is spent', async () => {
    const deadline = new Deadline(0);

    expect(() => deadline.check('C_Login')).toThrow(expect.objectContaining({ reason: 'TIMEOUT' }));
    await expect(deadline.race(Promise.resolve(1), 'C_Encrypt')).rejects.toMatchObject({ reason: 'TIMEOUT' });
  });
});
