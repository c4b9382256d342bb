/**
 * STS (query protocol): AssumeRole and GetCallerIdentity. A role whose name starts with
 * `xks-key-manager-` (the role the product's CDK creates in each account) may be assumed by any
 * caller the stand-in knows, in any 12-digit account: the credentials act in that account. Other
 * roles are refused as a trust policy that does not name the caller would refuse them.
 */
import { AwsError, validationError } from '../aws-error';
import { roleIdOf } from '../credentials';
import { STS, type OperationContext, type StandInModule, type XmlValue } from '../operation-registry';

const ASSUMABLE_ROLE = /^arn:aws:iam::(\d{12}):role\/(?:[\x21-\x7e]+\/)?(xks-key-manager-[\w+=,.@-]+)$/;
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\x21-\x7e]+\/)?[\w+=,.@-]{1,64}$/;
const SESSION_NAME = /^[\w+=,.@-]*$/;
/** A role's default MaxSessionDuration (one hour), which the stand-in's roles keep. */
const MAX_SESSION_SECONDS = 3600;
const MIN_SESSION_SECONDS = 900;

function queryValidation(error: AwsError): AwsError {
  return new AwsError('ValidationError', error.message, 400);
}

function assumeRole(params: URLSearchParams, context: OperationContext): XmlValue {
  const roleArn = params.get('RoleArn');
  const sessionName = params.get('RoleSessionName');
  if (roleArn === null) throw queryValidation(validationError('roleArn', undefined, 'Member must not be null'));
  if (sessionName === null) throw queryValidation(validationError('roleSessionName', undefined, 'Member must not be null'));
  if (roleArn.length < 20 || roleArn.length > 2048) throw queryValidation(validationError('roleArn', roleArn, `Member must have length ${roleArn.length < 20 ? 'greater than or equal to 20' : 'less than or equal to 2048'}`));
  if (sessionName.length < 2 || sessionName.length > 64) {
    throw queryValidation(validationError('roleSessionName', sessionName, `Member must have length ${sessionName.length < 2 ? 'greater than or equal to 2' : 'less than or equal to 64'}`));
  }
  if (!SESSION_NAME.test(sessionName)) throw queryValidation(validationError('roleSessionName', sessionName, 'Member must satisfy regular expression pattern: [\\w+=,.@-]*'));
  const durationText = params.get('DurationSeconds');
  const duration = durationText === null ? MAX_SESSION_SECONDS : Number(durationText);
  if (!Number.isInteger(duration)) throw queryValidation(validationError('durationSeconds', durationText, 'Member must be an integer'));
  if (duration < MIN_SESSION_SECONDS) throw queryValidation(validationError('durationSeconds', durationText, `Member must have value greater than or equal to ${MIN_SESSION_SECONDS}`));
  if (duration > 43200) throw queryValidation(validationError('durationSeconds', durationText, 'Member must have value less than or equal to 43200'));
  if (duration > MAX_SESSION_SECONDS) throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  if (!ROLE_ARN.test(roleArn)) throw new AwsError('ValidationError', `${roleArn} is invalid`);
  const match = ASSUMABLE_ROLE.exec(roleArn);
  if (!match) throw new AwsError('AccessDenied', `User: ${context.caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
  const [, accountId, roleName] = match;

  const key = context.runtime.credentials.issueSession(accountId, roleArn, sessionName, duration);
  return {
    Credentials: {
      AccessKeyId: key.accessKeyId,
      SecretAccessKey: key.secretAccessKey,
      SessionToken: key.sessionToken as string,
      Expiration: new Date(key.expiration as number).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
    AssumedRoleUser: {
      AssumedRoleId: `${roleIdOf(roleArn)}:${sessionName}`,
      Arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
    },
  };
}

function getCallerIdentity(_params: URLSearchParams, context: OperationContext): XmlValue {
  return { UserId: context.caller.userId, Account: context.caller.accountId, Arn: context.caller.arn };
}

export const stsOperations: StandInModule = {
  name: 'sts',
  register(registry) {
    registry.query(STS, 'AssumeRole', assumeRole).query(STS, 'GetCallerIdentity', getCallerIdentity);
  },
};
