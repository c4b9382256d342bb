/**
 * cdk-nag suppressions. Every suppression carries the reason it is safe, in the code next to the
 * resource it concerns (cdk-nag 3 reads them from `Validations.acknowledge` metadata).
 */
import { Names, Stack, Tokenization, Validations } from 'aws-cdk-lib';
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
  const stack = Stack.of(scope);
  acknowledge(scope, `${rule}[${kind}::${flattenCfnReference(stack.resolve(subject))}]`, reason);
  const viaParameters = asNestedStackParameters(stack, subject);
  if (viaParameters !== undefined) acknowledge(scope, `${rule}[${kind}::${viaParameters}]`, reason);
}

/**
 * In a nested stack, an attribute of a resource of another stack arrives as a parameter that CDK
 * names `referenceto<unique id of the resource><attribute>`; cdk-nag reports the finding with that
 * parameter. Returns the flattened subject in that form, or undefined when nothing crosses stacks.
 */
function asNestedStackParameters(stack: Stack, subject: string): string | undefined {
  if (!stack.nested) return undefined;
  let crossesStacks = false;
  const parts = Tokenization.reverseString(subject).mapTokens({
    mapToken: (token) => {
      const reference = token as Partial<{ target: IConstruct; displayName: string }>;
      if (reference.target && reference.displayName && Construct.isConstruct(reference.target) && Stack.of(reference.target) !== stack) {
        crossesStacks = true;
        return `<referenceto${Names.nodeUniqueId(reference.target.node)}${reference.displayName}>`.replace(/[^A-Za-z0-9<>]/g, '');
      }
      return flattenCfnReference(stack.resolve(token));
    },
  });
  const flattened = parts.join({ join: (left: unknown, right: unknown) => `${String(left)}${String(right)}` }) as unknown;
  return crossesStacks ? String(flattened) : undefined;
}

/** Acknowledges an IAM5 wildcard finding on the policy of `grantee` (when it is a construct: a Role). */
export function acknowledgeWildcardGrant(grantee: iam.IGrantable, resourcePattern: string, reason: string): void {
  const principal = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) acknowledgeFinding(principal, 'AwsSolutions-IAM5', 'Resource', resourcePattern, reason);
}
