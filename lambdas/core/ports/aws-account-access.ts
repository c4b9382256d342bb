/**
 * The port through which the control plane reaches an AWS account ("natively through
 * `assume_role_arn` (+ `assume_role_external_id`) or the deployment's own account"). STS on AWS
 * (adapters/aws/sts-account-access.ts); locally a stand-in that says there is no AWS account.
 */

/** How to reach an account: a role to assume (with its external id), or nothing = the deployment's own account. */
export interface AccountRoleRef {
  readonly assumeRoleArn?: string;
  readonly externalId?: string;
}

/** What the account tells about itself once reached. */
export interface AwsAccountDescription {
  /** The 12-digit id of the account the role (or the deployment) is in. */
  readonly accountId: string;
  /** The regions the account may use (which ones depends on the adapter; see its documentation). */
  readonly regions: readonly string[];
}

export interface AwsAccountAccess {
  /**
   * Reaches the account (assumes the role when one is given) and describes it.
   * Throws ValidationError naming `assume_role_arn` / `assume_role_external_id` when the role cannot
   * be assumed, DependencyError when AWS cannot be reached or is not available in this mode.
   */
  describeAccount(ref: AccountRoleRef): Promise<AwsAccountDescription>;
}
