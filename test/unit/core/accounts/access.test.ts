import { isPermitted, isVisible, notFoundFor, type Access } from '../../../../lambdas/core/accounts/access';
import { ForbiddenError, NotFoundError, ValidationError } from '../../../../lambdas/core/errors';
import type { AccountData, AclEntry } from '../../../../lambdas/core/accounts/account';
import type { Principal } from '../../../../lambdas/core/ports/token-verifier';
import { resolveAccount } from '../../../../lambdas/core/key-references';
import { MemoryStateStore } from '../../../helpers/memory-state-store';

const admin: Principal = { subject: 'sub-admin', username: 'root', groups: ['cckm-admins'], isAdmin: true };
const alice: Principal = { subject: 'sub-alice', username: 'alice', groups: ['cckm-users', 'team-a'], isAdmin: false };
const bob: Principal = { subject: 'sub-bob', username: 'bob', groups: ['cckm-users'], isAdmin: false };

const account = (acls: AclEntry[], name = 'prod'): AccountData => ({
  name,
  accountId: '111122223333',
  regions: ['us-east-1'],
  status: 'active',
  acls,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('isPermitted', () => {
  it('lets admins do everything, even with no ACL and no action', () => {
    expect(isPermitted({ principal: admin }, account([]))).toBe(true);
    expect(isPermitted({ principal: admin, action: 'keystoredelete' }, account([]))).toBe(true);
  });

  it.each<[string, AclEntry]>([
    ['username', { user_id: 'alice', actions: ['keystoreadd'] }],
    ['sub', { user_id: 'sub-alice', actions: ['keystoreadd'] }],
    ['group', { group: 'team-a', actions: ['keystoreadd'] }],
  ])('grants a user the actions of an entry naming their %s', (_, entry) => {
    expect(isPermitted({ principal: alice, action: 'keystoreadd' }, account([entry]))).toBe(true);
    expect(isPermitted({ principal: alice, action: 'keystoredelete' }, account([entry]))).toBe(false);
    expect(isPermitted({ principal: bob, action: 'keystoreadd' }, account([entry]))).toBe(false);
  });

  it('refuses a user on a route without an ACL action (admin-only)', () => {
    expect(isPermitted({ principal: alice }, account([{ user_id: 'alice', actions: ['keystoreadd'] }]))).toBe(false);
  });
});

describe('isVisible and notFoundFor', () => {
  it('shows an account to admins and to users named by one of its entries', () => {
    const acls: AclEntry[] = [{ group: 'team-a', actions: ['viewkeystore'] }];
    expect(isVisible(admin, account([]))).toBe(true);
    expect(isVisible(alice, account(acls))).toBe(true);
    expect(isVisible(bob, account(acls))).toBe(false);
  });

  it('answers a missing resource with 404 for admins and 403 for users', () => {
    expect(notFoundFor(admin, 'Key store', 'x')).toBeInstanceOf(NotFoundError);
    expect(notFoundFor(alice, 'Key store', 'x')).toBeInstanceOf(ForbiddenError);
  });
});

describe('resolveAccount (an account container a request names)', () => {
  const state = new MemoryStateStore();

  beforeAll(async () => {
    await state.transact([
      { op: 'create', kind: 'account', id: 'acc-1', data: account([{ user_id: 'alice', actions: ['viewkeystore'] }], 'prod'), uniqueName: 'prod' },
      { op: 'create', kind: 'account', id: 'acc-2', data: account([{ user_id: 'bob', actions: ['viewkeystore'] }], 'dev'), uniqueName: 'dev' },
    ]);
  });

  const as = (principal: Principal): Access => ({ principal, action: 'viewkeystore' });

  it('finds an account by id or by name', async () => {
    await expect(resolveAccount(state, as(alice), 'acc-1', 'kms')).resolves.toMatchObject({ id: 'acc-1' });
    await expect(resolveAccount(state, as(alice), 'prod', 'kms')).resolves.toMatchObject({ id: 'acc-1' });
  });

  it('refuses a user the same way whether the account is missing or not theirs; tells an admin which field names nothing', async () => {
    await expect(resolveAccount(state, as(alice), 'acc-2', 'kms')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(resolveAccount(state, as(alice), 'nope', 'kms')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(resolveAccount(state, as(admin), 'nope', 'kms')).rejects.toThrow(ValidationError);
  });
});
