/**
 * cdk-nag suppressions. Every suppression carries the reason it is safe, in the code next to the
 * resource it concerns (cdk-nag 3 reads them from `Validations.acknowledge` metadata).
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, type IConstruct } from 'constructs';

/**
 * Acknowledges a cdk-nag rule on `scope` and everything below it. `ruleId` is the rule
 * (`AwsSolutions-COG3`) or one finding of it (`AwsSolutions-IAM5[Resource::*]`).
 */
export function acknowledge(scope: IConstruct, ruleId: string, reason: string): void {
  if (reason.trim().length < 20) throw new Error(`Suppression of ${ruleId} at ${scope.node.path} needs a real reason (got "${reason}").`);
  Validations.of(scope).acknowledge({ id: ruleId, reason });
}

/**
 * Acknowledges one finding whose subject holds tokens (an ARN pattern built from a resource's
 * attribute), in the flattened form cdk-nag reports it: `AwsSolutions-IAM5[Resource::<Table.Arn>/index/*]`.
 */
export function acknowledgeFinding(scope: IConstruct, rule: string, kind: 'Resource' | 'Policy' | 'Action', subject: string, reason: string): void {
  acknowledge(scope, `${rule}[${kind}::${flattenCfnReference(Stack.of(scope).resolve(subject))}]`, reason);
}

/** Acknowledges an IAM5 wildcard finding on the policy of `grantee` (when it is a construct: a Role). */
export function acknowledgeWildcardGrant(grantee: iam.IGrantable, resourcePattern: string, reason: string): void {
  const principal = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) acknowledgeFinding(principal, 'AwsSolutions-IAM5', 'Resource', resourcePattern, reason);
}
