/**
 * An in-memory AwsAccountAccess: each role ARN leads into the account given for it (or fails with
 * the error given for it); no role = the deployment's own account. Records every call.
 */
import type { AccountRoleRef, AwsAccountAccess, AwsAccountDescription } from '../../lambdas/core/ports/aws-account-access';

export class FakeAwsAccountAccess implements AwsAccountAccess {
  readonly calls: AccountRoleRef[] = [];
  private readonly roles = new Map<string, string | Error>();

  constructor(
    private readonly ownAccountId = '111122223333',
    private readonly regions: readonly string[] = ['us-east-1', 'eu-west-1'],
  ) {}

  /** `roleArn` leads into `accountIdOrError`, or fails with it. */
  withRole(roleArn: string, accountIdOrError: string | Error): this {
    this.roles.set(roleArn, accountIdOrError);
    return this;
  }

  async describeAccount(ref: AccountRoleRef): Promise<AwsAccountDescription> {
    this.calls.push(ref);
    if (ref.assumeRoleArn === undefined) return { accountId: this.ownAccountId, regions: this.regions };
    const outcome = this.roles.get(ref.assumeRoleArn);
    if (outcome === undefined) throw new Error(`FakeAwsAccountAccess: no outcome set for ${ref.assumeRoleArn}`);
    if (outcome instanceof Error) throw outcome;
    return { accountId: outcome, regions: this.regions };
  }
}
