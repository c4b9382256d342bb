/**
 * `AwsAccountAccess` for local mode: there is no AWS account to reach (README, "npm start": AWS-side
 * calls that have no local counterpart fail with a clear message saying what they need). Account
 * containers are still created locally; the local adapter set does not verify their roles.
 */
import type { AccountRoleRef, AwsAccountAccess, AwsAccountDescription } from '../../core/ports/aws-account-access';
import { DependencyError } from '../../core/errors';

export class LocalAwsAccountAccess implements AwsAccountAccess {
  async describeAccount(ref: AccountRoleRef): Promise<AwsAccountDescription> {
    const what = ref.assumeRoleArn === undefined ? "the deployment's own AWS account" : `the role ${ref.assumeRoleArn}`;
    throw new DependencyError(
      `Local mode has no AWS account: describing ${what} needs AWS STS (sts:AssumeRole, sts:GetCallerIdentity), which only a deployment to AWS has (README, "Deploying to AWS")`,
    );
  }
}
