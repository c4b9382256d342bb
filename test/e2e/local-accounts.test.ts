/**
 * AWS accounts through the local runner: account description and the roles of account containers
 * go through the local AWS stand-in's STS with the production adapter (AssumeRole, then
 * GetCallerIdentity inside the account), as on AWS. The stand-in lets any caller assume roles
 * named `xks-key-manager-*` and refuses every other role.
 */
import { adminApi, type LocalSystem, startLocalSystem } from '../helpers/local-system';

const OTHER_ACCOUNT = '444455556666';

let system: LocalSystem;

beforeAll(async () => {
  system = await startLocalSystem();
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

const api: ReturnType<typeof adminApi> = (...args) => adminApi(system)(...args);

it('describes the default account and an account reached through a role', async () => {
  // Act
  const own = await api('POST', '/v1/cckm/aws/accounts', {});
  const other = await api('POST', '/v1/cckm/aws/accounts', { assume_role_arn: `arn:aws:iam::${OTHER_ACCOUNT}:role/xks-key-manager-e2e` });
  // Assert
  expect(own).toEqual({ account_id: system.aws.accountId, regions: expect.arrayContaining(['us-east-1']) });
  expect(other).toEqual({ account_id: OTHER_ACCOUNT, regions: expect.arrayContaining(['us-east-1']) });
});

it('refuses a role that cannot be assumed, naming assume_role_arn', async () => {
  // Act
  const refused = await api('POST', '/v1/cckm/aws/accounts', { assume_role_arn: `arn:aws:iam::${OTHER_ACCOUNT}:role/SomeoneElsesRole` }, 400);
  // Assert
  expect(refused.message).toMatch(/^assume_role_arn: /);
});

it('registers a container only when its role leads into its account_id', async () => {
  // Arrange
  const role = `arn:aws:iam::${OTHER_ACCOUNT}:role/xks-key-manager-e2e`;
  // Act
  const created = await api('POST', '/v1/cckm/aws/kms', { name: 'through-role', account_id: OTHER_ACCOUNT, regions: ['us-east-1'], assume_role_arn: role }, 201);
  const elsewhere = await api('POST', '/v1/cckm/aws/kms', { name: 'wrong-account', account_id: '777788889999', regions: ['us-east-1'], assume_role_arn: role }, 400);
  const list = await api('GET', '/v1/cckm/aws/kms?name=wrong-account');
  // Assert
  expect(created).toMatchObject({ name: 'through-role', account_id: OTHER_ACCOUNT, assume_role_arn: role });
  expect(elsewhere.message).toMatch(/assume_role_arn/);
  expect(elsewhere.message).toMatch(OTHER_ACCOUNT);
  expect(list.total).toBe(0);
});
