/** AwsAccountService (POST /v1/cckm/aws/accounts) against a fake AwsAccountAccess. */
import { DependencyError, ValidationError } from '../../../../lambdas/core/errors';
import { AwsAccountService } from '../../../../lambdas/core/accounts/aws-account-service';
import { FakeAwsAccountAccess } from '../../../helpers/fake-aws-account-access';
import { rejectionOf } from '../../../helpers/key-fixtures';

const ROLE = 'arn:aws:iam::444455556666:role/xks-key-manager-access';

let accounts: FakeAwsAccountAccess;
let service: AwsAccountService;

beforeEach(() => {
  accounts = new FakeAwsAccountAccess('111122223333', ['us-east-1', 'us-west-2']);
  service = new AwsAccountService({ awsAccountAccess: accounts });
});

it('answers the account id and regions the role leads to, passing the external id on', async () => {
  // Arrange
  accounts.withRole(ROLE, '444455556666');
  // Act
  const account = await service.describe({ assume_role_arn: ROLE, assume_role_external_id: 'ext-1' });
  // Assert
  expect(account).toEqual({ account_id: '444455556666', regions: ['us-east-1', 'us-west-2'] });
  expect(accounts.calls).toEqual([{ assumeRoleArn: ROLE, externalId: 'ext-1' }]);
});

it("answers the deployment's own account when no role is given", async () => {
  await expect(service.describe({})).resolves.toEqual({ account_id: '111122223333', regions: ['us-east-1', 'us-west-2'] });
  expect(accounts.calls).toEqual([{}]);
});

it.each([
  [{ assume_role_arn: 'arn:aws:iam::444455556666:user/bob' }, 'assume_role_arn'],
  [{ assume_role_external_id: 'ext-without-role' }, 'assume_role_external_id'],
])('refuses bad input with a 400 naming the field before reaching AWS (%#)', async (request, field) => {
  const error = await rejectionOf(service.describe(request));
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).field).toBe(field);
  expect(accounts.calls).toEqual([]);
});

it("passes the port's errors on unchanged", async () => {
  const denied = new ValidationError('cannot be assumed', 'assume_role_arn');
  accounts.withRole(ROLE, denied);
  await expect(service.describe({ assume_role_arn: ROLE })).rejects.toBe(denied);
  const down = new DependencyError('STS down');
  accounts.withRole(ROLE, down);
  await expect(service.describe({ assume_role_arn: ROLE })).rejects.toBe(down);
});
