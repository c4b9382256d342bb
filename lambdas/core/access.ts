/**
 * Who may act on what (issue 2, §3): admins may do everything; a user may act on an AWS account
 * container, and on everything inside it, only where the container's ACL grants the route's action
 * to them (`user_id` = their username or `sub`) or to one of their groups.
 *
 * Nothing here reveals whether a resource exists to someone who may not see it: a missing resource
 * is a 404 for admins and the same 403 as "not permitted" for everyone else.
 */
import type { AclAction } from '../contract/routes';
import { ForbiddenError, NotFoundError, type KeyManagerError } from './errors';
import type { AccountData, AclEntry } from './model/account';
import type { Principal } from './principal';
import type { EntityRecord, StateStore } from './state/state-store';

/** The caller and, on `acl` routes, the action the route needs (from the route table). */
export interface Access {
  readonly principal: Principal;
  /** Set on `acl` routes; admin-only and `authenticated` routes have none. */
  readonly action?: AclAction;
}

function entryApplies(entry: AclEntry, principal: Principal): boolean {
  if (entry.user_id !== undefined) return entry.user_id === principal.username || entry.user_id === principal.subject;
  return entry.group !== undefined && principal.groups.includes(entry.group);
}

/** Whether the caller may do the access's action on an account with these ACLs. */
export function isPermitted(access: Access, account: Pick<AccountData, 'acls'>): boolean {
  if (access.principal.isAdmin) return true;
  const { action } = access;
  return action !== undefined && account.acls.some((entry) => entryApplies(entry, access.principal) && entry.actions.includes(action));
}

/** Whether the caller may see the account at all: admins, and users named by any of its ACL entries. */
export function isVisible(principal: Principal, account: Pick<AccountData, 'acls'>): boolean {
  return principal.isAdmin || account.acls.some((entry) => entryApplies(entry, principal) && entry.actions.length > 0);
}

/** The error for a resource the caller asked for that does not exist: 404 for admins, 403 for users. */
export function notFoundFor(principal: Principal, resource: string, id: string): KeyManagerError {
  return principal.isAdmin ? new NotFoundError(resource, id) : new ForbiddenError();
}

export const ACCOUNT_RESOURCE = 'AWS account container';

/** Access decisions that need the account containers from the state store. */
export class AccessControl {
  constructor(private readonly state: StateStore) {}

  /**
   * The account container (by id, or by name as the seeds' `kms` allows) if the caller may do the
   * access's action on it. Missing: 404 for admins, 403 for users; not permitted: 403.
   */
  async requireAccount(access: Access, idOrName: string): Promise<EntityRecord<AccountData>> {
    const account = await this.findAccount(idOrName);
    if (!account) throw notFoundFor(access.principal, ACCOUNT_RESOURCE, idOrName);
    if (!isPermitted(access, account.data)) throw new ForbiddenError();
    return account;
  }

  /** The account container with this id, or else with this name. */
  async findAccount(idOrName: string): Promise<EntityRecord<AccountData> | undefined> {
    return (
      (await this.state.get<AccountData>('account', idOrName)) ??
      (await this.state.list<AccountData>('account')).find((account) => account.data.name === idOrName)
    );
  }

  /**
   * For lists of things inside accounts: the ids of the accounts where the caller may do the
   * access's action, or `'all'` for admins (no filter).
   */
  async permittedAccountIds(access: Access): Promise<ReadonlySet<string> | 'all'> {
    if (access.principal.isAdmin) return 'all';
    const accounts = await this.state.list<AccountData>('account');
    return new Set(accounts.filter((account) => isPermitted(access, account.data)).map((account) => account.id));
  }
}
