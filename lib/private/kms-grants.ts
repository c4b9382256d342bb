/**
 * Grants of the AWS KMS actions a route calls (`needs.awsKms` in the route table) to its function's
 * role, for account containers without a role (those with one are reached by assuming it, and the
 * role in that account carries the permissions: README "Deploying to AWS").
 *
 * IAM's custom key store actions and ListKeys take no resource type, so they can only be granted
 * on `*` (within the deployment's own account, where the role lives), as do CreateKey and
 * ListAliases; the actions on a key (DescribeKey, EnableKey, PutKeyPolicy, ...) are granted on the
 * keys of the deployment's own account only. CreateAlias and DeleteAlias need the key and the alias,
 * both of the own account.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ACCOUNT_ROLE_NAME_PREFIX } from '../../lambdas/contract/env';
import type { AwsKmsAction, CloudHsmAction } from '../../lambdas/contract/routes';
import { acknowledgeWildcardGrant } from './nag';

/** The actions that IAM scopes to a KMS key ARN; all others apply to the account as a whole. */
const KEY_ACTIONS: ReadonlySet<AwsKmsAction> = new Set<AwsKmsAction>([
  'DescribeKey', 'GetKeyPolicy', 'ListResourceTags', 'EnableKey', 'DisableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion',
  'UpdateKeyDescription', 'TagResource', 'UntagResource', 'PutKeyPolicy', 'GetKeyRotationStatus',
]);
/** The actions IAM checks on a key and on an alias. */
const ALIAS_ACTIONS: ReadonlySet<AwsKmsAction> = new Set<AwsKmsAction>(['CreateAlias', 'DeleteAlias']);

export function grantAwsKms(role: iam.IRole, actions: readonly AwsKmsAction[]): void {
  const onKeys = actions.filter((action) => KEY_ACTIONS.has(action));
  const onAliases = actions.filter((action) => ALIAS_ACTIONS.has(action));
  const onAccount = actions.filter((action) => !KEY_ACTIONS.has(action) && !ALIAS_ACTIONS.has(action));
  if (onAccount.length > 0) {
    iam.Grant.addToPrincipal({ grantee: role, actions: onAccount.map((action) => `kms:${action}`), resourceArns: ['*'] });
    acknowledgeWildcardGrant(role, '*', `IAM's AWS KMS custom key store actions and kms:ListKeys have no resource type and can only be granted on "*"; this role holds just the ones its route calls (${onAccount.join(', ')}), in the deployment's own account.`);
  }
  if (onKeys.length > 0) {
    const keys = `arn:${Aws.PARTITION}:kms:*:${Aws.ACCOUNT_ID}:key/*`;
    iam.Grant.addToPrincipal({ grantee: role, actions: onKeys.map((action) => `kms:${action}`), resourceArns: [keys] });
    acknowledgeWildcardGrant(role, keys, `KMS keys are run-time data (created in AWS KMS, not by this stack); the grant is limited to the keys of the deployment's own account and to the actions this route calls (${onKeys.join(', ')}).`);
  }
  if (onAliases.length > 0) {
    const keys = `arn:${Aws.PARTITION}:kms:*:${Aws.ACCOUNT_ID}:key/*`;
    const aliases = `arn:${Aws.PARTITION}:kms:*:${Aws.ACCOUNT_ID}:alias/*`;
    iam.Grant.addToPrincipal({ grantee: role, actions: onAliases.map((action) => `kms:${action}`), resourceArns: [keys, aliases] });
    acknowledgeWildcardGrant(role, aliases, `Aliases and keys are run-time data; ${onAliases.join(' and ')} are granted on the aliases and keys of the deployment's own account only.`);
  }
}

/**
 * The AWS CloudHSM actions a function calls in the deployment's own account: a route's
 * (`needs.cloudHsm`, for containers without a role; with one, the role in the account carries
 * them), or the XKS proxy's deep health check (the HSMs of a partition's cluster).
 * cloudhsm:DescribeClusters has no resource type in IAM, so it can only be granted on "*".
 */
export function grantCloudHsm(role: iam.IRole, actions: readonly CloudHsmAction[]): void {
  iam.Grant.addToPrincipal({ grantee: role, actions: actions.map((action) => `cloudhsm:${action}`), resourceArns: ['*'] });
  acknowledgeWildcardGrant(role, '*', `IAM's cloudhsm:DescribeClusters has no resource type and can only be granted on "*"; this role holds just the CloudHSM actions its function calls (${actions.join(', ')}), in the deployment's own account.`);
}

/** sts:AssumeRole on the roles the customer creates for the key manager in registered accounts (`<pattern>`). */
export function grantAssumeAccountRoles(role: iam.IRole, accountRoleArnPattern: string): void {
  iam.Grant.addToPrincipal({ grantee: role, actions: ['sts:AssumeRole'], resourceArns: [accountRoleArnPattern] });
  acknowledgeWildcardGrant(role, accountRoleArnPattern, `Registered AWS accounts are run-time data; the function may assume only roles named ${ACCOUNT_ROLE_NAME_PREFIX}* (the name the README tells customers to give the role in each account), whose trust policy names this deployment.`);
}
