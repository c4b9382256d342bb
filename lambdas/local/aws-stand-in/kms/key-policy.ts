/**
 * Key policies: the default policy AWS gives a key created without one, the checks PutKeyPolicy
 * and CreateKey make on a policy document (MalformedPolicyDocumentException), and the policy
 * lockout safety check (unless BypassPolicyLockoutSafetyCheck): the caller must remain allowed to
 * call PutKeyPolicy under the new policy.
 *
 * Only the document's shape and the lockout rule are checked; the stand-in does not evaluate key
 * policies on each request (see README: not reproduced).
 */
import { AwsError } from '../aws-error';
import type { Caller } from '../credentials';

export const MAX_POLICY_LENGTH = 32768;

/** AWS's default key policy, in the pretty-printed layout GetKeyPolicy returns it. */
export function defaultKeyPolicy(accountId: string): string {
  return [
    '{',
    '  "Version" : "2012-10-17",',
    '  "Id" : "key-default-1",',
    '  "Statement" : [ {',
    '    "Sid" : "Enable IAM User Permissions",',
    '    "Effect" : "Allow",',
    '    "Principal" : {',
    `      "AWS" : "arn:aws:iam::${accountId}:root"`,
    '    },',
    '    "Action" : "kms:*",',
    '    "Resource" : "*"',
    '  } ]',
    '}',
  ].join('\n');
}

const malformed = (message: string): AwsError => new AwsError('MalformedPolicyDocumentException', message);

const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}):(root|user\/.+|role\/.+|assumed-role\/.+|federated-user\/.+)$/;

type Statement = Record<string, unknown>;

/** Throws MalformedPolicyDocumentException unless `text` is a key policy AWS would accept. */
export function checkKeyPolicy(text: string, caller: Caller, bypassLockoutCheck: boolean): void {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw malformed('The policy is not valid JSON.');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw malformed('The policy must be a JSON object.');
  const policy = document as Record<string, unknown>;
  if (policy.Version !== undefined && policy.Version !== '2012-10-17' && policy.Version !== '2008-10-17') throw malformed('The policy Version is not supported.');
  const statements = Array.isArray(policy.Statement) ? policy.Statement : policy.Statement === undefined ? [] : [policy.Statement];
  if (statements.length === 0) throw malformed('The policy must contain at least one statement.');
  for (const statement of statements) checkStatement(statement);
  if (!bypassLockoutCheck && !statements.some((statement) => allowsPutKeyPolicy(statement as Statement, caller))) {
    throw malformed('The new key policy will not allow you to update the key policy in the future.');
  }
}

function checkStatement(value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('Policy statements must be JSON objects.');
  const statement = value as Statement;
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') throw malformed('Policy contains a statement with no or an invalid Effect.');
  if ((statement.Action === undefined) === (statement.NotAction === undefined)) throw malformed('Policy statements must have exactly one of Action and NotAction.');
  for (const action of listOf(statement.Action ?? statement.NotAction)) {
    if (typeof action !== 'string' || !(action === '*' || /^kms:[A-Za-z*?]+$/.test(action))) throw malformed('Policy contains a statement with one or more invalid actions.');
  }
  if (statement.Resource === undefined && statement.NotResource === undefined) throw malformed('Policy statements must have a Resource.');
  const principal = statement.Principal ?? statement.NotPrincipal;
  if (principal === undefined) throw malformed('Policy contains a statement with no principal.');
  for (const entry of principalEntries(principal)) {
    if (entry.type === 'AWS' && !(entry.value === '*' || /^\d{12}$/.test(entry.value) || PRINCIPAL_ARN.test(entry.value))) {
      throw malformed('Policy contains a statement with one or more invalid principals.');
    }
  }
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function principalEntries(principal: unknown): { type: string; value: string }[] {
  if (principal === '*') return [{ type: 'AWS', value: '*' }];
  if (typeof principal !== 'object' || principal === null || Array.isArray(principal)) throw malformed('Policy contains a statement with one or more invalid principals.');
  const entries: { type: string; value: string }[] = [];
  for (const [type, values] of Object.entries(principal as Record<string, unknown>)) {
    for (const value of listOf(values)) {
      if (typeof value !== 'string') throw malformed('Policy contains a statement with one or more invalid principals.');
      entries.push({ type, value });
    }
  }
  return entries;
}

function allowsPutKeyPolicy(statement: Statement, caller: Caller): boolean {
  if (statement.Effect !== 'Allow' || statement.Principal === undefined || statement.Action === undefined || statement.Condition !== undefined) return false;
  const actionMatches = listOf(statement.Action).some((action) => typeof action === 'string' && wildcard(action.toLowerCase()).test('kms:putkeypolicy'));
  if (!actionMatches) return false;
  const names = callerPrincipals(caller);
  return principalEntries(statement.Principal).some((entry) => entry.type === 'AWS' && names.includes(entry.value));
}

/** The principal values that name the caller: `*`, its account (id or root ARN), its own ARN or role. */
function callerPrincipals(caller: Caller): string[] {
  const names = ['*', caller.accountId, `arn:aws:iam::${caller.accountId}:root`, caller.arn];
  const roleSession = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(caller.arn);
  if (roleSession) names.push(`arn:aws:iam::${roleSession[1]}:role/${roleSession[2]}`);
  return names;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}
