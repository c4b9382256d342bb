/** AccountContainerService on the in-memory StateStore (the same contract as DynamoDB: test/integration/state). */
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../../../lambdas/core/errors';
import { ACCOUNT_COUNTERS } from '../../../../lambdas/core/accounts/account';
import type { Principal } from '../../../../lambdas/core/ports/token-verifier';
import { AccountContainerService, type CreateAccountContainerRequest } from '../../../../lambdas/core/accounts/account-container-service';
import { FakeAwsAccountAccess } from '../../../helpers/fake-aws-account-access';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { admin, clock, ids, rejectionOf, user } from '../../../helpers/key-fixtures';

const root = admin().principal;
const alice: Principal = user('alice').principal;
const bob: Principal = { ...user('bob').principal, groups: ['cckm-users', 'auditors'] };

let state: MemoryStateStore;
let service: AccountContainerService;

beforeEach(() => {
  state = new MemoryStateStore();
  service = new AccountContainerService({ state, clock, ids });
});

const request = (overrides: Partial<CreateAccountContainerRequest> = {}): CreateAccountContainerRequest => ({
  name: 'prod',
  account_id: '111122223333',
  regions: ['us-east-1', 'eu-west-1'],
  ...overrides,
});

describe('create', () => {
  it('returns the CCKM resource with envelope, root ARN and no ACLs', async () => {
    const created = await service.create(request({ assume_role_arn: 'arn:aws:iam::111122223333:role/path/KeyManager', assume_role_external_id: 'ext-123' }));

    expect(created).toEqual({
      id: expect.any(String),
      uri: `kylo:kylo:cckm:aws_kms:${created.id}`,
      account: 'kylo:kylo:admin:accounts:kylo',
      application: 'ncryptify:gemalto:admin:apps:kylo',
      devAccount: 'ncryptify:gemalto:admin:accounts:gemalto',
      createdAt: expect.any(String),
      updatedAt: created.createdAt,
      name: 'prod',
      account_id: '111122223333',
      regions: ['us-east-1', 'eu-west-1'],
      arn: 'arn:aws:iam::111122223333:root',
      assume_role_arn: 'arn:aws:iam::111122223333:role/path/KeyManager',
      assume_role_external_id: 'ext-123',
      status: 'active',
      acls: [],
      cloud_name: 'aws',
    });
    await expect(service.get(root, created.id)).resolves.toEqual(created);
  });

  it.each<[Partial<CreateAccountContainerRequest>, string]>([
    [{ regions: ['us-east-1', 'us-east1'] }, 'regions[1]'],
    [{ regions: ['mars-north-1'] }, 'regions[0]'],
    [{ assume_role_arn: 'arn:aws:iam::111122223333:user/bob' }, 'assume_role_arn'],
    [{ assume_role_arn: 'arn:aws:iam::999988887777:role/KeyManager' }, 'assume_role_arn'],
    [{ assume_role_external_id: 'ext-without-role' }, 'assume_role_external_id'],
  ])('refuses bad input with a 400 naming the field, and writes nothing (%#)', async (overrides, field) => {
    const error = await rejectionOf(service.create(request(overrides)));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(state.transactions).toEqual([]);
  });

  it('refuses a second container with the same name', async () => {
    await service.create(request());
    await expect(service.create(request({ account_id: '444455556666' }))).rejects.toThrow(new ConflictError('An AWS account container named "prod" already exists'));
  });
});

describe('visibility to users', () => {
  it('lists and gets only the containers whose ACLs name the user or a group of theirs', async () => {
    const prod = await service.create(request());
    const dev = await service.create(request({ name: 'dev' }));
    await service.updateAcls(prod.id, { acls: [{ user_id: 'alice', permit: true, actions: ['viewkeystore'] }] });
    await service.updateAcls(dev.id, { acls: [{ group: 'auditors', permit: true, actions: ['viewkeystore'] }] });

    expect((await service.list(alice, {})).resources.map((r) => r.name)).toEqual(['prod']);
    expect((await service.list(bob, {})).resources.map((r) => r.name)).toEqual(['dev']);
    expect((await service.list(root, { sort: 'name' })).resources.map((r) => r.name)).toEqual(['dev', 'prod']);
    await expect(service.get(alice, dev.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(service.get(alice, 'missing')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(service.get(root, 'missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('shows a user only their own ACL entries and never the role\'s external id; admins see everything', async () => {
    // Arrange
    const prod = await service.create(request({ assume_role_arn: 'arn:aws:iam::111122223333:role/xks-key-manager-access', assume_role_external_id: 'shared-secret-1' }));
    await service.updateAcls(prod.id, {
      acls: [
        { user_id: 'alice', permit: true, actions: ['viewkeystore'] },
        { user_id: 'mallory', permit: true, actions: ['keystoreadd'] },
        { group: 'auditors', permit: true, actions: ['viewhyokkey'] },
      ],
    });

    // Act
    const seenByAlice = await service.get(alice, prod.id);
    const listedForBob = (await service.list(bob, {})).resources[0];
    const seenByAdmin = await service.get(root, prod.id);

    // Assert
    expect(seenByAlice.acls).toEqual([{ user_id: 'alice', actions: ['viewkeystore'] }]);
    expect(listedForBob.acls).toEqual([{ group: 'auditors', actions: ['viewhyokkey'] }]);
    for (const seen of [seenByAlice, listedForBob]) {
      expect(seen).not.toHaveProperty('assume_role_external_id');
      expect(JSON.stringify(seen)).not.toContain('mallory');
    }
    expect(seenByAdmin.acls).toHaveLength(3);
    expect(seenByAdmin.assume_role_external_id).toBe('shared-secret-1');
  });

  it('filters by name and account_id and pages', async () => {
    await service.create(request({ name: 'a' }));
    await service.create(request({ name: 'b', account_id: '444455556666' }));
    await service.create(request({ name: 'c' }));

    expect((await service.list(root, { account_id: '111122223333', sort: '-name' })).resources.map((r) => r.name)).toEqual(['c', 'a']);
    expect(await service.list(root, { name: 'b' })).toMatchObject({ total: 1, resources: [{ name: 'b' }] });
    expect(await service.list(root, { sort: 'name', skip: '1', limit: '1' })).toMatchObject({ skip: 1, limit: 1, total: 3, resources: [{ name: 'b' }] });
  });
});

describe('update', () => {
  it('changes regions and the role; null removes the role with its external id', async () => {
    const created = await service.create(request({ assume_role_arn: 'arn:aws:iam::111122223333:role/KM', assume_role_external_id: 'ext-1' }));

    const updated = await service.update(created.id, { regions: ['ap-southeast-2'] });
    expect(updated).toMatchObject({ regions: ['ap-southeast-2'], assume_role_arn: 'arn:aws:iam::111122223333:role/KM', assume_role_external_id: 'ext-1' });

    const withoutRole = await service.update(created.id, { assume_role_arn: null });
    expect(withoutRole.assume_role_arn).toBeUndefined();
    expect(withoutRole.assume_role_external_id).toBeUndefined();
    await expect(service.update(created.id, { assume_role_external_id: 'ext-2' })).rejects.toMatchObject({ field: 'assume_role_external_id' });
  });

  it('refuses to remove a region a key store is in', async () => {
    const created = await service.create(request());
    await state.transact([{ op: 'count', kind: 'account', id: created.id, counter: ACCOUNT_COUNTERS.keyStoresInRegion('eu-west-1'), delta: 1 }]);

    await expect(service.update(created.id, { regions: ['us-east-1'] })).rejects.toThrow(
      new ConflictError('The region eu-west-1 cannot be removed while a key store of this AWS account container is in it'),
    );
    await expect(service.update(created.id, { regions: ['eu-west-1'] })).resolves.toMatchObject({ regions: ['eu-west-1'] });
  });
});

describe('update-acls', () => {
  it('grants and revokes incrementally, dropping entries left without actions', async () => {
    const { id } = await service.create(request());

    await service.updateAcls(id, {
      acls: [
        { user_id: 'alice', permit: true, actions: ['viewkeystore', 'keystoreadd'] },
        { group: 'auditors', permit: true, actions: ['viewkeystore'] },
      ],
    });
    await service.updateAcls(id, { acls: [{ user_id: 'alice', permit: true, actions: ['keystoreblock', 'viewkeystore'] }] });
    const after = await service.updateAcls(id, {
      acls: [
        { user_id: 'alice', permit: false, actions: ['keystoreadd'] },
        { group: 'auditors', permit: false, actions: ['viewkeystore'] },
      ],
    });

    expect(after.acls).toEqual([{ user_id: 'alice', actions: ['viewkeystore', 'keystoreblock'] }]);
  });

  it.each([
    [{ user_id: 'alice', permit: true, actions: ['keystoreadd', 'fly'] }, 'acls[0].actions[1]'],
    [{ permit: true, actions: ['keystoreadd'] }, 'acls[0]'],
    [{ user_id: 'alice', group: 'g', permit: true, actions: ['keystoreadd'] }, 'acls[0]'],
  ])('refuses an unknown action or an entry naming not exactly one grantee (%#)', async (change, field) => {
    const { id } = await service.create(request());
    const before = state.transactions.length;
    await expect(service.updateAcls(id, { acls: [change] })).rejects.toMatchObject({ name: 'ValidationError', field });
    expect(state.transactions).toHaveLength(before);
  });

  it('refuses (400 naming acls) a change that would leave more than 100 entries, and keeps the ACLs as they were', async () => {
    // Arrange
    const prod = await service.create(request());
    const grant = (from: number, count: number) => ({ acls: Array.from({ length: count }, (_, i) => ({ user_id: `user-${from + i}`, permit: true, actions: ['viewkeystore'] })) });
    await service.updateAcls(prod.id, grant(0, 100));

    // Act
    const error = await rejectionOf(service.updateAcls(prod.id, grant(100, 1)));

    // Assert
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/^acls: an AWS account container holds at most 100 ACL entries; this change would leave 101/);
    expect((await service.get(root, prod.id)).acls).toHaveLength(100);
  });

  it('loses no grant when many are applied at once', async () => {
    const { id } = await service.create(request());
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);

    await Promise.all(users.map((name) => service.updateAcls(id, { acls: [{ user_id: name, permit: true, actions: ['viewkeystore'] }] })));

    expect((await service.get(root, id)).acls.map((a) => a.user_id).sort()).toEqual([...users].sort());
  });
});

describe('delete', () => {
  it('is refused while a key store uses the container, and frees the name afterwards', async () => {
    const { id } = await service.create(request());
    await state.transact([{ op: 'count', kind: 'account', id, counter: ACCOUNT_COUNTERS.keyStores, delta: 1 }]);

    await expect(service.delete(id)).rejects.toThrow(new ConflictError('The AWS account container "prod" cannot be deleted while key stores use it'));

    await state.transact([{ op: 'count', kind: 'account', id, counter: ACCOUNT_COUNTERS.keyStores, delta: -1 }]);
    await service.delete(id);
    await expect(service.get(root, id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.create(request())).resolves.toMatchObject({ name: 'prod' });
  });
});

describe('role verification (aws mode: an accountRoleVerifier is wired)', () => {
  const ROLE = 'arn:aws:iam::111122223333:role/xks-key-manager-prod';
  let verifier: FakeAwsAccountAccess;
  let verified: AccountContainerService;

  beforeEach(() => {
    verifier = new FakeAwsAccountAccess();
    verified = new AccountContainerService({ state, clock, ids, accountRoleVerifier: verifier });
  });

  it('assumes the role (with its external id) before creating the container', async () => {
    // Arrange
    verifier.withRole(ROLE, '111122223333');
    // Act
    const created = await verified.create(request({ assume_role_arn: ROLE, assume_role_external_id: 'ext-1' }));
    // Assert
    expect(created.assume_role_arn).toBe(ROLE);
    expect(verifier.calls).toEqual([{ assumeRoleArn: ROLE, externalId: 'ext-1' }]);
  });

  it('refuses a role that cannot be assumed, with the verifier\'s 400, and writes nothing', async () => {
    const denied = new ValidationError('this deployment cannot assume it', 'assume_role_arn');
    verifier.withRole(ROLE, denied);

    await expect(verified.create(request({ assume_role_arn: ROLE }))).rejects.toBe(denied);
    expect(state.transactions).toEqual([]);
  });

  it('refuses a role that leads into another account than account_id, naming assume_role_arn', async () => {
    verifier.withRole(ROLE, '999988887777');

    const error = await rejectionOf(verified.create(request({ assume_role_arn: ROLE })));

    expect(error).toEqual(new ValidationError("leads into AWS account 999988887777, not into the container's account_id 111122223333", 'assume_role_arn'));
    expect((error as ValidationError).field).toBe('assume_role_arn');
    expect(state.transactions).toEqual([]);
  });

  it('checks the ARN\'s form and account before assuming anything, and needs no assuming without a role', async () => {
    await expect(verified.create(request({ assume_role_arn: 'arn:aws:iam::999988887777:role/xks-key-manager-x' }))).rejects.toMatchObject({ field: 'assume_role_arn' });
    await verified.create(request());
    expect(verifier.calls).toEqual([]);
  });

  it('verifies on update whenever the request sets the role or the external id, against the stored role', async () => {
    verifier.withRole(ROLE, '111122223333');
    const created = await verified.create(request({ assume_role_arn: ROLE }));
    verifier.calls.length = 0;

    await verified.update(created.id, { regions: ['us-east-1'] });
    expect(verifier.calls).toEqual([]);

    await verified.update(created.id, { assume_role_external_id: 'ext-2' });
    expect(verifier.calls).toEqual([{ assumeRoleArn: ROLE, externalId: 'ext-2' }]);

    await verified.update(created.id, { assume_role_arn: null });
    expect(verifier.calls).toHaveLength(1);
  });

  it('refuses an update to a role that fails verification and keeps the record as it was', async () => {
    const other = 'arn:aws:iam::111122223333:role/xks-key-manager-other';
    verifier.withRole(ROLE, '111122223333').withRole(other, new ValidationError('this deployment cannot assume it', 'assume_role_arn'));
    const created = await verified.create(request({ assume_role_arn: ROLE }));

    await expect(verified.update(created.id, { assume_role_arn: other, regions: ['us-east-1'] })).rejects.toMatchObject({ field: 'assume_role_arn' });

    await expect(verified.get(root, created.id)).resolves.toEqual(created);
  });
});

describe('without a verifier (local mode)', () => {
  it('stores a role unverified', async () => {
    await expect(service.create(request({ assume_role_arn: 'arn:aws:iam::111122223333:role/xks-key-manager-never-assumed' }))).resolves.toMatchObject({
      assume_role_arn: 'arn:aws:iam::111122223333:role/xks-key-manager-never-assumed',
    });
  });
});
