/**
 * AWS account containers (`/v1/cckm/aws/kms`): create, list, get, update, delete, update-acls.
 *
 * Invariants and where they are kept:
 *  - the name is unique: a name claim in the create transaction;
 *  - a container is deleted only while no key store uses it (`requireZero` on its `keyStores`
 *    counter, which the key store service adjusts in its own transactions), and a region is removed
 *    only while no key store is in it (a zero-range `count` on `keyStores@<region>`);
 *  - update and update-acls are read-modify-write with the record's version, recomputed when another
 *    request changed it in between, so concurrent ACL grants never lose one another;
 *  - a role given on create or update can be assumed and leads into the container's `account_id`
 *    (checked through `accountRoleVerifier`, which only aws mode wires: local mode has no AWS
 *    account to reach, so it registers roles unverified).
 * Users (non-admins) see only the containers whose ACLs name them; a missing container looks to
 * them exactly like one they may not see (403).
 */
import { ACL_ACTIONS, type AclAction } from '../../contract/acl';
import { ACCOUNT_RESOURCE, entryApplies, isVisible, notFoundFor } from './access';
import type { AccountRoleRef, AwsAccountAccess } from '../ports/aws-account-access';
import { NotFoundError, ValidationError } from '../errors';
import { LISTS } from '../../contract/lists';
import { type ListPage, parseList } from '../listing';
import {
  ACCOUNT_COUNTERS,
  type AccountData,
  accountResource,
  type AccountResource,
  type AclChange,
  applyAclChanges,
  checkAccountRole,
  checkRegions,
} from './account';
import type { IdGenerator } from '../ports/id-generator';
import type { Clock } from '../ports/clock';
import type { Principal } from '../ports/token-verifier';
import type { EntityRecord, StateOp, StateStore } from '../ports/state-store';
import { CHANGED_CONCURRENTLY, retryOnChange } from '../retry-on-change';
import type { CreateAccountContainerRequest, UpdateAccountContainerRequest, UpdateAclsRequest } from '../../contract/account-schemas';

/** POST /v1/cckm/aws/kms, PATCH .../{id} (`null` removes the role or the external id) and POST .../{id}/update-acls: the types of `accountSchemas`. */
export type { CreateAccountContainerRequest, UpdateAccountContainerRequest, UpdateAclsRequest };

export interface AccountContainerServiceDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /**
   * Assumes a container's role on create and update to check that it works and leads into the
   * container's account.
   * @default - none: roles are stored unverified (local mode, which has no AWS account)
   */
  readonly accountRoleVerifier?: AwsAccountAccess;
}

export class AccountContainerService {
  constructor(private readonly deps: AccountContainerServiceDeps) {}

  /**
   * 1. Check the regions and the role (a role ARN in this account; an external id only with a role).
   * 2. Verify the role: it can be assumed and leads into `account_id` (aws mode).
   * 3. Write the container and its name claim in one transaction (a taken name is a 409).
   */
  async create(request: CreateAccountContainerRequest): Promise<AccountResource> {
    const regions = checkRegions(request.regions);
    const role = checkAccountRole(request.assume_role_arn, request.assume_role_external_id, request.account_id);
    await this.verifyRole(role, request.account_id);
    const now = this.deps.clock.now().toISOString();
    const id = this.deps.ids.newId();
    const data: AccountData = {
      name: request.name,
      accountId: request.account_id,
      regions,
      ...(request.assume_role_arn === undefined ? {} : { assumeRoleArn: request.assume_role_arn }),
      ...(request.assume_role_external_id === undefined ? {} : { assumeRoleExternalId: request.assume_role_external_id }),
      status: 'active',
      acls: [],
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.state.transact([
      { op: 'create', kind: 'account', id, data, uniqueName: data.name, counters: { [ACCOUNT_COUNTERS.keyStores]: 0 }, conflictMessage: `An AWS account container named ${JSON.stringify(data.name)} already exists` },
    ]);
    return accountResource(id, data);
  }

  /** Filters `id`, `name`, `account_id`; users see only the containers their ACLs name. */
  async list(principal: Principal, query: Readonly<Record<string, string | undefined>>): Promise<ListPage<AccountResource>> {
    const listing = parseList(query, LISTS.accountContainers);
    const accounts = await this.deps.state.list<AccountData>('account');
    const resources = accounts
      .filter((account) => isVisible(principal, account.data))
      .map((account) => accountResource(account.id, asSeenBy(principal, account.data)));
    return listing.page(resources);
  }

  async get(principal: Principal, id: string): Promise<AccountResource> {
    const account = await this.deps.state.get<AccountData>('account', id);
    if (!account || !isVisible(principal, account.data)) throw notFoundFor(principal, ACCOUNT_RESOURCE, id);
    return accountResource(account.id, asSeenBy(principal, account.data));
  }

  /**
   * Regions (never one a key store is in) and the role; not the name or the account id. A role or
   * external id the request sets is verified like on create, against the record being replaced.
   */
  async update(id: string, request: UpdateAccountContainerRequest): Promise<AccountResource> {
    const touchesRole = request.assume_role_arn !== undefined || request.assume_role_external_id !== undefined;
    const verified = new Set<string>(); // role refs already verified by an earlier attempt of this update
    return this.change(id, async (account) => {
      const regions = request.regions === undefined ? account.data.regions : checkRegions(request.regions);
      const assumeRoleArn = request.assume_role_arn === undefined ? account.data.assumeRoleArn : (request.assume_role_arn ?? undefined);
      // Removing the role removes its external id too.
      const assumeRoleExternalId =
        request.assume_role_external_id !== undefined ? (request.assume_role_external_id ?? undefined) : assumeRoleArn === undefined ? undefined : account.data.assumeRoleExternalId;
      const role = checkAccountRole(assumeRoleArn, assumeRoleExternalId, account.data.accountId);
      const roleKey = JSON.stringify(role);
      if (touchesRole && !verified.has(roleKey)) {
        await this.verifyRole(role, account.data.accountId);
        verified.add(roleKey);
      }
      const { assumeRoleArn: _arn, assumeRoleExternalId: _externalId, ...rest } = account.data;
      const data: AccountData = {
        ...rest,
        regions,
        ...(assumeRoleArn === undefined ? {} : { assumeRoleArn }),
        ...(assumeRoleExternalId === undefined ? {} : { assumeRoleExternalId }),
      };
      // A removed region must have no key store in it: its counter must be 0 when the update lands.
      const regionGuards: StateOp[] = account.data.regions
        .filter((region) => !regions.includes(region))
        .map((region) => ({
          op: 'count',
          kind: 'account',
          id,
          counter: ACCOUNT_COUNTERS.keyStoresInRegion(region),
          delta: 0,
          max: 0,
          conflictMessage: `The region ${region} cannot be removed while a key store of this AWS account container is in it`,
        }));
      return { data, extraOps: regionGuards };
    });
  }

  /** Refused (409) while a key store uses the container. */
  async delete(id: string): Promise<void> {
    const account = await this.deps.state.get<AccountData>('account', id);
    if (!account) throw new NotFoundError(ACCOUNT_RESOURCE, id);
    await this.deps.state.transact([
      {
        op: 'delete',
        kind: 'account',
        id,
        uniqueName: account.data.name,
        requireZero: [ACCOUNT_COUNTERS.keyStores],
        conflictMessage: `The AWS account container ${JSON.stringify(account.data.name)} cannot be deleted while key stores use it`,
      },
    ]);
  }

  /** Incremental grants (`permit: true`) and revocations (`permit: false`), applied in order. */
  async updateAcls(id: string, request: UpdateAclsRequest): Promise<AccountResource> {
    const changes: AclChange[] = request.acls.map((change, i) => ({ ...change, actions: checkAclActions(change.actions, `acls[${i}].actions`) }));
    return this.change(id, (account) => ({ data: { ...account.data, acls: applyAclChanges(account.data.acls, changes) } }));
  }

  /**
   * With a verifier, and a role: assumes it (a 400 naming the field when that fails) and checks that
   * it leads into `accountId`. Without a role the container is the deployment's own account, which
   * needs no assuming.
   */
  private async verifyRole(role: AccountRoleRef, accountId: string): Promise<void> {
    const verifier = this.deps.accountRoleVerifier;
    if (!verifier || role.assumeRoleArn === undefined) return;
    const reached = await verifier.describeAccount(role);
    if (reached.accountId !== accountId) {
      throw new ValidationError(`leads into AWS account ${reached.accountId}, not into the container's account_id ${accountId}`, 'assume_role_arn');
    }
  }

  /** Read, compute, write with the version read; again when another request changed the record meanwhile. */
  private change(
    id: string,
    compute: (account: EntityRecord<AccountData>) => AccountChange | Promise<AccountChange>,
  ): Promise<AccountResource> {
    return retryOnChange(async () => {
      const account = await this.deps.state.get<AccountData>('account', id);
      if (!account) throw new NotFoundError(ACCOUNT_RESOURCE, id);
      const { data, extraOps = [] } = await compute(account);
      const updated: AccountData = { ...data, updatedAt: this.deps.clock.now().toISOString() };
      await this.deps.state.transact([
        { op: 'update', kind: 'account', id, data: updated, expectedVersion: account.version, conflictMessage: CHANGED_CONCURRENTLY },
        ...extraOps,
      ]);
      return accountResource(id, updated);
    });
  }
}

/**
 * What a user (not an admin) sees of a container their ACL names: their own ACL entries only (not
 * who else holds what) and no `assume_role_external_id` (a shared secret of the role's trust policy).
 */
function asSeenBy(principal: Principal, account: AccountData): AccountData {
  if (principal.isAdmin) return account;
  const { assumeRoleExternalId: _hidden, ...rest } = account;
  return { ...rest, acls: account.acls.filter((entry) => entryApplies(entry, principal)) };
}

interface AccountChange {
  readonly data: AccountData;
  readonly extraOps?: StateOp[];
}

function checkAclActions(actions: readonly string[], field: string): AclAction[] {
  actions.forEach((action, j) => {
    if (!(ACL_ACTIONS as readonly string[]).includes(action)) {
      throw new ValidationError(`${JSON.stringify(action)} is not an ACL action; the actions are ${ACL_ACTIONS.join(', ')}`, `${field}[${j}]`);
    }
  });
  return [...actions] as AclAction[];
}
