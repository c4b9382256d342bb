/**
 * The secret of a new XKS credential is written before the state that references it. When that
 * state write fails, the secret goes; when the failure leaves the outcome unknown, the state is
 * re-read first, so that a committed store or credential never loses its secret.
 */
import { ServiceUnavailableError } from '../../../../lambdas/core/errors';
import type { StateOp, StateStore } from '../../../../lambdas/core/ports/state-store';
import { admin, keyServices, keyStoreSetup, rejectionOf } from '../../../helpers/key-fixtures';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { MemorySecretStore } from '../../../helpers/softhsm';

/** A MemoryStateStore whose next transaction fails after (or instead of) being applied. */
class FlakyStateStore extends MemoryStateStore implements StateStore {
  private nextFailure?: { readonly applied: boolean; readonly error: Error };
  /** The read after the failure fails too. */
  failReads = false;

  failNextTransact(applied: boolean, error: Error): void {
    this.nextFailure = { applied, error };
  }

  override async transact(ops: readonly StateOp[]): Promise<void> {
    const failure = this.nextFailure;
    this.nextFailure = undefined;
    if (failure?.applied) await super.transact(ops);
    if (failure) throw failure.error;
    return super.transact(ops);
  }

  override async get<T>(...args: Parameters<StateStore['get']>) {
    if (this.failReads) throw new ServiceUnavailableError('still down', { outcomeUnknown: false });
    return super.get<T>(...args);
  }
}

const unknownOutcome = () => new ServiceUnavailableError('DynamoDB did not answer', { outcomeUnknown: true });

let state: FlakyStateStore;
let secrets: MemorySecretStore;

beforeEach(() => {
  state = new FlakyStateStore();
  secrets = new MemorySecretStore();
});

describe('create key store', () => {
  it('answers the committed store with its secret when the write landed although DynamoDB gave no answer', async () => {
    // Arrange
    const setup = await keyStoreSetup(state);
    state.failNextTransact(true, unknownOutcome());

    // Act
    const created = await keyServices(state, secrets).keyStores.create(admin(), setup.request());

    // Assert
    expect(created.secret_access_key).toEqual(expect.any(String));
    expect(await state.get('keyStore', created.id)).toBeDefined();
    expect(secrets.values.size).toBe(1);
  });

  it('deletes the secret when the re-read shows the write did not land', async () => {
    // Arrange
    const setup = await keyStoreSetup(state);
    state.failNextTransact(false, unknownOutcome());

    // Act
    const error = await rejectionOf(keyServices(state, secrets).keyStores.create(admin(), setup.request()));

    // Assert
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(secrets.values.size).toBe(0);
  });

  it('deletes the secret without re-reading when the failure applied nothing', async () => {
    // Arrange
    const setup = await keyStoreSetup(state);
    state.failNextTransact(false, new ServiceUnavailableError('throttled', { outcomeUnknown: false }));
    const get = jest.spyOn(state, 'get');

    // Act
    await rejectionOf(keyServices(state, secrets).keyStores.create(admin(), setup.request()));

    // Assert
    expect(secrets.values.size).toBe(0);
    expect(get.mock.calls.filter(([kind]) => kind === 'keyStore')).toHaveLength(0);
  });

  it('keeps the secret when the re-read fails too (a committed store must not lose it)', async () => {
    // Arrange
    const setup = await keyStoreSetup(state);
    const services = keyServices(state, secrets);
    state.failNextTransact(true, unknownOutcome());
    const transact = state.transact.bind(state);
    jest.spyOn(state, 'transact').mockImplementationOnce(async (ops) => {
      state.failReads = true;
      return transact(ops);
    });

    // Act
    const error = await rejectionOf(services.keyStores.create(admin(), setup.request()));

    // Assert
    expect(error.message).toBe('DynamoDB did not answer');
    expect(secrets.values.size).toBe(1);
  });
});

describe('rotate credential', () => {
  it('answers the new credential when its write landed although DynamoDB gave no answer', async () => {
    // Arrange
    const setup = await keyStoreSetup(state);
    const services = keyServices(state, secrets);
    const store = await services.keyStores.create(admin(), setup.request());
    state.failNextTransact(true, unknownOutcome());

    // Act
    const rotated = await services.credentials.rotate(admin(), store.id);

    // Assert
    expect(rotated.credential_count).toBe(2);
    expect((await services.credentials.list(admin(), store.id, {})).resources.map((c) => c.id)).toContain(rotated.credential_id);
    expect(secrets.values.size).toBe(2);
  });

  it('deletes the new secret when the write did not land', async () => {
    // Arrange
    const setup = await keyStoreSetup(state);
    const services = keyServices(state, secrets);
    const store = await services.keyStores.create(admin(), setup.request());
    state.failNextTransact(false, unknownOutcome());

    // Act
    const error = await rejectionOf(services.credentials.rotate(admin(), store.id));

    // Assert
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(secrets.values.size).toBe(1);
  });
});
