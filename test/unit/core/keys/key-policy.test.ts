/**
 * Key policies from CCKM's policy parameters: the shortcut lists expand to the console policy the
 * seeds' CloudHSM key example shows, and the ways of giving a policy exclude each other.
 */
import { ValidationError } from '../../../../lambdas/core/errors';
import { expandShortcuts, keyPolicyFor, principalArn, type PolicyRequest } from '../../../../lambdas/core/keys/key-policy';

const ACCOUNT = '556782359223';
const request = (overrides: Partial<PolicyRequest>): PolicyRequest => ({ documentField: 'aws_param.Policy', shortcuts: {}, ...overrides });

function refusal(call: () => unknown): ValidationError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

/** The statements of the seeds' example response, principals compared as sets. */
const SEED_STATEMENTS = [
  { Sid: 'Enable IAM User Permissions', Principal: [`arn:aws:iam::${ACCOUNT}:root`], Action: 'kms:*' },
  {
    Sid: 'Allow access for Key Administrators',
    Principal: [`arn:aws:iam::${ACCOUNT}:role/aws-service-role/elasticfilesystem.amazonaws.com/AWSServiceRoleForAmazonElasticFileSystem`, `arn:aws:iam::${ACCOUNT}:user/john.doe`],
    Action: ['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'],
  },
  {
    Sid: 'Allow use of the key',
    Principal: [`arn:aws:iam::${ACCOUNT}:user/richard-roe`, `arn:aws:iam::${ACCOUNT}:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport`],
    Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
  },
  {
    Sid: 'Allow attachment of persistent resources',
    Principal: [`arn:aws:iam::${ACCOUNT}:user/richard-roe`, `arn:aws:iam::${ACCOUNT}:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport`],
    Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'],
    Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
  },
];

describe('expandShortcuts', () => {
  it("expands the seeds' example request into the seeds' example policy", () => {
    // Arrange: the request of the seeds' create-aws-key example.
    const shortcuts = {
      key_admins: ['john.doe'],
      key_admins_roles: ['aws-service-role/elasticfilesystem.amazonaws.com/AWSServiceRoleForAmazonElasticFileSystem'],
      key_users: ['richard-roe'],
      key_users_roles: ['aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport'],
    };
    // Act
    const policy = expandShortcuts(shortcuts, ACCOUNT);
    // Assert
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Statement.map((s) => s.Sid)).toEqual(SEED_STATEMENTS.map((s) => s.Sid));
    policy.Statement.forEach((statement, i) => {
      const seed = SEED_STATEMENTS[i];
      expect(new Set([statement.Principal.AWS].flat())).toEqual(new Set(seed.Principal));
      expect(statement.Action).toEqual(seed.Action);
      expect(statement.Effect).toBe('Allow');
      expect(statement.Resource).toBe('*');
      expect(statement.Condition).toEqual(seed.Condition);
    });
  });

  it('only administrators: root and the administrators statement; only users: root, use and grants', () => {
    expect(expandShortcuts({ key_admins: ['alice'] }, ACCOUNT).Statement.map((s) => s.Sid)).toEqual(['Enable IAM User Permissions', 'Allow access for Key Administrators']);
    expect(expandShortcuts({ key_users: ['bob'] }, ACCOUNT).Statement.map((s) => s.Sid)).toEqual([
      'Enable IAM User Permissions',
      'Allow use of the key',
      'Allow attachment of persistent resources',
    ]);
  });

  it('external accounts use the key through their root; duplicates appear once', () => {
    const policy = expandShortcuts({ key_users: ['bob', `arn:aws:iam::${ACCOUNT}:user/bob`], external_accounts: ['444455556666'] }, ACCOUNT);
    expect(policy.Statement[1].Principal.AWS).toEqual([`arn:aws:iam::${ACCOUNT}:user/bob`, 'arn:aws:iam::444455556666:root']);
  });
});

describe('principalArn', () => {
  it('keeps ARNs of the right kind, qualifies names and paths with the account', () => {
    expect(principalArn('arn:aws:iam::111122223333:role/ops', 'role', ACCOUNT, 'key_users_roles')).toBe('arn:aws:iam::111122223333:role/ops');
    expect(principalArn('/team/alice', 'user', ACCOUNT, 'key_users')).toBe(`arn:aws:iam::${ACCOUNT}:user/team/alice`);
  });

  it('refuses a role ARN as a user, a bad account id and names with spaces (400 naming the field)', () => {
    expect(refusal(() => principalArn('arn:aws:iam::111122223333:role/ops', 'user', ACCOUNT, 'key_users')).field).toBe('key_users');
    expect(refusal(() => principalArn('12345', 'root', ACCOUNT, 'external_accounts')).message).toMatch(/^external_accounts: .*12-digit/);
    expect(refusal(() => principalArn('alice smith', 'user', ACCOUNT, 'key_admins')).field).toBe('key_admins');
  });
});

describe('keyPolicyFor', () => {
  it('nothing given: AWS KMS default policy (undefined)', () => {
    expect(keyPolicyFor(request({}), ACCOUNT)).toBeUndefined();
    expect(keyPolicyFor(request({ shortcuts: { key_users: [] } }), ACCOUNT)).toBeUndefined();
  });

  it('a document, as an object or as JSON text, is passed on as JSON text', () => {
    const document = { Version: '2012-10-17', Statement: [] };
    expect(JSON.parse(keyPolicyFor(request({ document }), ACCOUNT) ?? '')).toEqual(document);
    expect(JSON.parse(keyPolicyFor(request({ document: JSON.stringify(document) }), ACCOUNT) ?? '')).toEqual(document);
    expect(refusal(() => keyPolicyFor(request({ document: '{not json' }), ACCOUNT)).field).toBe('aws_param.Policy');
    expect(refusal(() => keyPolicyFor(request({ document: ['x'] }), ACCOUNT)).field).toBe('aws_param.Policy');
  });

  it("a document object larger than AWS KMS's 32768 characters as JSON: 400 naming the field", () => {
    const document = (length: number) => ({ Version: '2012-10-17', Statement: [], Sid: 'x'.repeat(length - '{"Version":"2012-10-17","Statement":[],"Sid":""}'.length) });
    expect(keyPolicyFor(request({ document: document(32768) }), ACCOUNT)).toHaveLength(32768);
    const tooLong = refusal(() => keyPolicyFor(request({ document: document(32769) }), ACCOUNT));
    expect(tooLong.field).toBe('aws_param.Policy');
    expect(tooLong.message).toMatch(/at most 32768 characters as JSON \(AWS KMS's limit for a key policy\), not 32769/);
  });

  it('shortcuts combine with each other and expand', () => {
    const text = keyPolicyFor(request({ shortcuts: { key_admins: ['alice'], key_users: ['bob'] } }), ACCOUNT);
    expect(JSON.parse(text ?? '').Statement).toHaveLength(4);
  });

  it('a document and a shortcut, or a template and anything, are mutually exclusive (400 naming both)', () => {
    const both = refusal(() => keyPolicyFor(request({ document: {}, shortcuts: { key_users: ['bob'] } }), ACCOUNT));
    expect(both.message).toMatch(/aws_param\.Policy and key_users are mutually exclusive/);
    expect(both.field).toBe('aws_param.Policy');
    expect(refusal(() => keyPolicyFor(request({ policytemplate: 't', shortcuts: { external_accounts: ['444455556666'] } }), ACCOUNT)).message).toMatch(
      /policytemplate and external_accounts are mutually exclusive/,
    );
  });

  it('a template alone: 400 saying templates are not supported yet', () => {
    const error = refusal(() => keyPolicyFor(request({ policytemplate: 'tmpl-1' }), ACCOUNT));
    expect(error.field).toBe('policytemplate');
    expect(error.message).toMatch(/not supported yet/);
  });
});
