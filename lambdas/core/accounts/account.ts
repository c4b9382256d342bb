/**
 * AWS account containers (`/v1/cckm/aws/kms`, CCKM's AWS account API): an AWS account
 * the manager acts in, the regions it may use, how it is reached (an IAM role to assume, or the
 * deployment's own account when no role is given), and the ACLs that let non-admin users act on
 * it and on everything inside it.
 */
import type { AclAction } from '../../contract/acl';
import type { AccountRoleRef } from '../ports/aws-account-access';
import type { StateOp } from '../ports/state-store';
import { ValidationError } from '../errors';
import { envelope, type ResourceEnvelope, type Timestamps } from '../resource';

/**
 * Counters kept on the account record (StateStore `counters`), maintained by the services that
 * create and delete what lives in an account. The key store services add
 * `accountKeyStoreCounts(id, region, 1)` to their create transactions and
 * `accountKeyStoreCounts(id, region, -1)` to their delete transactions. The account is deleted
 * only while `keyStores` is 0, and a region is removed only while its counter is 0.
 */
export const ACCOUNT_COUNTERS = {
  keyStores: 'keyStores',
  keyStoresInRegion: (region: string): string => `keyStores@${region}`,
} as const;

/** The account's key store counters (total and per region), +1 on create, -1 on delete. */
export function accountKeyStoreCounts(accountId: string, region: string, delta: 1 | -1): StateOp[] {
  const missing = `AWS account container ${accountId} was deleted meanwhile`;
  return [ACCOUNT_COUNTERS.keyStores, ACCOUNT_COUNTERS.keyStoresInRegion(region)].map((counter) => ({
    op: 'count' as const,
    kind: 'account' as const,
    id: accountId,
    counter,
    delta,
    ...(delta < 0 ? { min: 0 } : {}),
    conflictMessage: missing,
  }));
}

export type AccountStatus = 'active' | 'archived';

/** One ACL entry as stored and shown: a user (`user_id` = username or `sub`) or a group, and its actions. */
export interface AclEntry {
  readonly user_id?: string;
  readonly group?: string;
  readonly actions: readonly AclAction[];
}

/** One change of `update-acls`: grant (`permit: true`) or revoke (`permit: false`) the entry's actions. */
export interface AclChange extends AclEntry {
  readonly permit: boolean;
}

export interface AccountData extends Timestamps {
  readonly name: string;
  /** The 12-digit AWS account id. */
  readonly accountId: string;
  readonly regions: readonly string[];
  /** Role assumed to act in the account; absent = the deployment's own account and role. */
  readonly assumeRoleArn?: string;
  readonly assumeRoleExternalId?: string;
  readonly status: AccountStatus;
  readonly acls: readonly AclEntry[];
}

export interface AccountResource extends ResourceEnvelope {
  readonly name: string;
  readonly account_id: string;
  readonly regions: readonly string[];
  /** The account's root ARN (`arn:<partition>:iam::<account_id>:root`). */
  readonly arn: string;
  readonly assume_role_arn?: string;
  readonly assume_role_external_id?: string;
  readonly status: AccountStatus;
  readonly acls: readonly AclEntry[];
  readonly cloud_name: 'aws';
}

export function accountResource(id: string, account: AccountData): AccountResource {
  const partition = account.assumeRoleArn ? account.assumeRoleArn.split(':')[1] : 'aws';
  return {
    ...envelope('aws_kms', id, account),
    name: account.name,
    account_id: account.accountId,
    regions: account.regions,
    arn: `arn:${partition}:iam::${account.accountId}:root`,
    ...(account.assumeRoleArn === undefined ? {} : { assume_role_arn: account.assumeRoleArn }),
    ...(account.assumeRoleExternalId === undefined ? {} : { assume_role_external_id: account.assumeRoleExternalId }),
    status: account.status,
    acls: account.acls,
    cloud_name: 'aws',
  };
}

// ---------------------------------------------------------------------------------------------
// Field rules beyond the JSON schema (each throws a ValidationError naming the field).
// ---------------------------------------------------------------------------------------------

/** `arn:<partition>:iam::<12 digits>:role/<optional path/>name`, IAM's own character set and lengths. */
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(?:[\x21-\x7e]{0,510}\/)?[\w+=,.@-]{1,64}$/;

/**
 * `assume_role_arn`: an IAM role ARN; in the container's own account when `accountId` is given
 * (KMS acts in the caller's account).
 */
function checkAssumeRoleArn(value: string, accountId?: string): string {
  const field = 'assume_role_arn';
  const match = ROLE_ARN.exec(value);
  if (!match) throw new ValidationError('must be an IAM role ARN like arn:aws:iam::111122223333:role/KeyManagerAccess', field);
  if (accountId !== undefined && match[2] !== accountId) throw new ValidationError(`must be a role in account ${accountId} (the container's account_id), not in ${match[2]}`, field);
  return value;
}

/**
 * How an account is reached: `assume_role_arn` (checked as above) with an optional
 * `assume_role_external_id`, or neither (the deployment's own account). An external id without a
 * role is refused.
 */
export function checkAccountRole(assumeRoleArn: string | undefined, externalId: string | undefined, accountId?: string): AccountRoleRef {
  if (assumeRoleArn === undefined) {
    if (externalId !== undefined) throw new ValidationError('can only be given together with assume_role_arn', 'assume_role_external_id');
    return {};
  }
  checkAssumeRoleArn(assumeRoleArn, accountId);
  return { assumeRoleArn, ...(externalId === undefined ? {} : { externalId }) };
}

/**
 * AWS region names: `<area>-<direction>-<n>` (e.g. `us-east-1`, `ap-southeast-5`, `us-gov-west-1`).
 * A pattern rather than a list, so that a region AWS opens next year is not refused; typos such as
 * `us-east1` or `useast-1` are.
 */
const REGION = /^(af|ap|ca|cn|eu|eusc|il|me|mx|sa|us|us-gov|us-iso|us-isob)-(central|north|northeast|northwest|south|southeast|southwest|east|west)-\d{1,2}$/;

export function checkRegions(regions: readonly string[]): string[] {
  const field = 'regions';
  if (regions.length === 0) throw new ValidationError('must name at least one AWS region', field);
  regions.forEach((region, i) => {
    if (!REGION.test(region)) throw new ValidationError(`${JSON.stringify(region)} is not an AWS region name (e.g. us-east-1)`, `${field}[${i}]`);
  });
  return [...new Set(regions)];
}

/** Most ACL entries one account container holds (each user or group with actions is one entry). */
export const MAX_ACL_ENTRIES = 100;

/**
 * Applies `update-acls` changes in order: grants add actions to the entry, revokes remove them;
 * empty entries go. 400 naming `acls` when the container would hold more than MAX_ACL_ENTRIES.
 */
export function applyAclChanges(acls: readonly AclEntry[], changes: readonly AclChange[]): AclEntry[] {
  let result = acls.map((entry) => ({ ...entry, actions: [...entry.actions] }));
  changes.forEach((change, i) => {
    const grantee = granteeOf(change, `acls[${i}]`);
    const existing = result.find((entry) => sameGrantee(entry, grantee));
    if (change.permit) {
      if (existing) existing.actions = [...new Set([...existing.actions, ...change.actions])];
      else result.push({ ...grantee, actions: [...new Set(change.actions)] });
    } else if (existing) {
      existing.actions = existing.actions.filter((action) => !change.actions.includes(action));
    }
    result = result.filter((entry) => entry.actions.length > 0);
  });
  if (result.length > MAX_ACL_ENTRIES) {
    throw new ValidationError(`an AWS account container holds at most ${MAX_ACL_ENTRIES} ACL entries; this change would leave ${result.length} (revoke some first)`, 'acls');
  }
  return result;
}

function granteeOf(change: AclChange, field: string): { user_id: string } | { group: string } {
  if ((change.user_id === undefined) === (change.group === undefined)) {
    throw new ValidationError('must name exactly one of user_id and group', field);
  }
  return change.user_id !== undefined ? { user_id: change.user_id } : { group: change.group as string };
}

function sameGrantee(entry: AclEntry, grantee: { user_id: string } | { group: string }): boolean {
  return 'user_id' in grantee ? entry.user_id === grantee.user_id : entry.group === grantee.group;
}
