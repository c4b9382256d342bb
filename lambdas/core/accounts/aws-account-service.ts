/**
 * `POST /v1/cckm/aws/accounts` (CCKM's AWS account API): the account id and regions an
 * AWS account reached through a role (or the deployment's own account) reports, before a container
 * is registered for it. Nothing is stored.
 */
import type { AwsAccountAccess } from '../ports/aws-account-access';
import { checkAccountRole } from './account';
import type { DescribeAwsAccountRequest } from '../../contract/account-schemas';

/** The type of `accountSchemas.describe`; both fields optional (none = the deployment's own account). */
export type { DescribeAwsAccountRequest };

export interface AwsAccountResource {
  readonly account_id: string;
  readonly regions: readonly string[];
}

export interface AwsAccountServiceDeps {
  readonly awsAccountAccess: AwsAccountAccess;
}

export class AwsAccountService {
  constructor(private readonly deps: AwsAccountServiceDeps) {}

  /**
   * 1. Check the role ARN's form (an external id only with a role).
   * 2. Reach the account through the port and answer what it reports.
   */
  async describe(request: DescribeAwsAccountRequest): Promise<AwsAccountResource> {
    const ref = checkAccountRole(request.assume_role_arn, request.assume_role_external_id);
    const account = await this.deps.awsAccountAccess.describeAccount(ref);
    return { account_id: account.accountId, regions: account.regions };
  }
}
