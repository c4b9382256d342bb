/**
 * Who may act on what: admins may do everything; a user may act on an AWS account
 * container, and on everything inside it, only where the container's ACL grants the route's action
 * to them (`user_id` = their username or `sub`) or to one of their groups.
 *
 * Nothing here reveals whether a resource exists to someone who may not see it: a missing resource
 * is a 404 for admins and the same 403 as "not permitted" for everyone else.
 */
import type { AclAction, AwsKeyKind } from '../../contract/acl';
import { ForbiddenError, NotFoundError, type KeyManagerError, ValidationError } from '../errors';
import type { AccountData, AclEntry } from './account';
import type { Principal } from '../ports/token-verifier';

/** The caller and, on `acl` routes, the action the route needs (from the route table). */
export interface Access {
  readonly principal: Principal;
  /** Set on `acl` routes; admin-only and `authenticated` routes have none. */
  readonly action?: AclAction;
  /** AWS key routes: the action per kind of key, where it is not `action` (routes.ts `byKeyKind`). */
  readonly byKeyKind?: Readonly<Partial<Record<AwsKeyKind, AclAction>>>;
}

/** Whether an ACL entry names the caller (their username or `sub`) or one of their groups. */
export function entryApplies(entry: AclEntry, principal: Principal): boolean {
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

/**
 * The error for a request field that names a resource which does not exist: a 400 naming the field
 * for admins, for users the same 403 as "not permitted".
 */
export function missingReferenceFor(principal: Principal, message: string, field: string): KeyManagerError {
  return principal.isAdmin ? new ValidationError(message, field) : new ForbiddenError();
}

export const ACCOUNT_RESOURCE = 'AWS account container';
