/**
 * The key policy of a KMS key the key manager creates or changes, from one of CCKM's mutually
 * exclusive ways to say it (README "AWS keys"):
 *  - a policy document (`aws_param.Policy` on link and create, `policy` on the policy operation);
 *  - the shortcuts `key_admins`, `key_admins_roles`, `key_users`, `key_users_roles`,
 *    `external_accounts`, expanded into the statements of AWS's console policy (the root of the
 *    container's account, then the administrators, the use of the key, and the attachment of
 *    persistent resources with `kms:GrantIsForAWSResource`), names turned into full ARNs of the
 *    container's account;
 *  - `policytemplate`: refused, templates do not exist here yet;
 *  - nothing: AWS KMS's default key policy.
 * Pure: no I/O.
 */
import { ValidationError } from '../errors';
import { KMS_POLICY_MAX_LENGTH } from '../../contract/aws-kms-fields';

/** The shortcut fields, in the order their principals appear in the statements. */
export const POLICY_SHORTCUTS = ['key_admins', 'key_admins_roles', 'key_users', 'key_users_roles', 'external_accounts'] as const;
export type PolicyShortcut = (typeof POLICY_SHORTCUTS)[number];

/** What a request says about the policy; `documentField` names where its document came from. */
export interface PolicyRequest {
  readonly document?: unknown;
  readonly documentField: string;
  readonly shortcuts: Partial<Record<PolicyShortcut, readonly string[]>>;
  readonly policytemplate?: string;
}

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Principal: { readonly AWS: string | readonly string[] };
  readonly Action: string | readonly string[];
  readonly Resource: '*';
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface KeyPolicyDocument {
  readonly Version: '2012-10-17';
  readonly Id: string;
  readonly Statement: readonly PolicyStatement[];
}

/** The administrators' actions of AWS's console policy. */
export const KEY_ADMIN_ACTIONS = [
  'kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*',
  'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion',
] as const;
export const KEY_USER_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'] as const;
export const KEY_GRANT_ACTIONS = ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'] as const;

const ACCOUNT_ID = /^\d{12}$/;
const IAM_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):(user|role|root)(\/[\x21-\x7e]+)?$/;
/** IAM user and role names and paths: `[\w+=,.@-]` and `/` (a role may carry its path, e.g. `aws-service-role/...`). */
const IAM_NAME = /^[\w+=,.@/-]{1,512}$/;

/**
 * The policy document to give AWS KMS (as JSON text), or undefined for AWS's default policy.
 * 400 naming the fields when more than one way is used, for a template, for a document that is
 * not a JSON object (or a string holding one), and for a name or account id that cannot be one.
 */
export function keyPolicyFor(request: PolicyRequest, accountId: string): string | undefined {
  const used = POLICY_SHORTCUTS.filter((name) => (request.shortcuts[name]?.length ?? 0) > 0);
  const ways = [
    ...(request.document === undefined ? [] : [request.documentField]),
    ...(request.policytemplate === undefined ? [] : ['policytemplate']),
    ...(used.length > 0 ? [used.join(', ')] : []),
  ];
  if (ways.length > 1) {
    throw new ValidationError(`${ways.join(' and ')} are mutually exclusive: give a policy document, a policy template or the key_admins/key_users/external_accounts lists`, ways[0].split(', ')[0]);
  }
  if (request.policytemplate !== undefined) {
    throw new ValidationError('policy templates are not supported yet; give the policy document or the key_admins/key_users/external_accounts lists', 'policytemplate');
  }
  if (request.document !== undefined) return policyText(request.document, request.documentField);
  if (used.length === 0) return undefined;
  return JSON.stringify(expandShortcuts(request.shortcuts, accountId));
}

/** The console policy for the shortcuts: root, administrators, users, and users' grants for AWS resources. */
export function expandShortcuts(shortcuts: PolicyRequest['shortcuts'], accountId: string): KeyPolicyDocument {
  const arns = (field: PolicyShortcut, kind: 'user' | 'role' | 'root') => (shortcuts[field] ?? []).map((value) => principalArn(value, kind, accountId, field));
  const admins = [...arns('key_admins', 'user'), ...arns('key_admins_roles', 'role')];
  const users = [...arns('key_users', 'user'), ...arns('key_users_roles', 'role'), ...arns('external_accounts', 'root')];
  const statements: PolicyStatement[] = [
    { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'kms:*', Resource: '*' },
  ];
  if (admins.length > 0) {
    statements.push({ Sid: 'Allow access for Key Administrators', Effect: 'Allow', Principal: { AWS: unique(admins) }, Action: [...KEY_ADMIN_ACTIONS], Resource: '*' });
  }
  if (users.length > 0) {
    statements.push(
      { Sid: 'Allow use of the key', Effect: 'Allow', Principal: { AWS: unique(users) }, Action: [...KEY_USER_ACTIONS], Resource: '*' },
      {
        Sid: 'Allow attachment of persistent resources',
        Effect: 'Allow',
        Principal: { AWS: unique(users) },
        Action: [...KEY_GRANT_ACTIONS],
        Resource: '*',
        Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      },
    );
  }
  return { Version: '2012-10-17', Id: 'key-consolepolicy-3', Statement: statements };
}

/**
 * The full ARN for a shortcut entry: a user or role name (with its path) of the container's
 * account, an account id (external accounts: its root), or already an IAM ARN of that kind.
 */
export function principalArn(value: string, kind: 'user' | 'role' | 'root', accountId: string, field: string): string {
  const arn = IAM_ARN.exec(value);
  if (arn !== null) {
    if (arn[2] !== kind) throw new ValidationError(`${JSON.stringify(value)} is not an IAM ${kind === 'root' ? 'account root' : kind} ARN`, field);
    return value;
  }
  if (kind === 'root') {
    if (!ACCOUNT_ID.test(value)) throw new ValidationError(`${JSON.stringify(value)} is not a 12-digit AWS account id`, field);
    return `arn:aws:iam::${value}:root`;
  }
  const name = value.replace(/^\/+/, '');
  if (!IAM_NAME.test(name)) throw new ValidationError(`${JSON.stringify(value)} is not an IAM ${kind} name or ARN`, field);
  return `arn:aws:iam::${accountId}:${kind}/${name}`;
}

/** A policy document as JSON text: an object, or a string holding one. */
function policyText(document: unknown, field: string): string {
  let parsed = document;
  if (typeof document === 'string') {
    try {
      parsed = JSON.parse(document);
    } catch {
      throw new ValidationError('is not valid JSON', field);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ValidationError('must be a key policy document (a JSON object)', field);
  const text = JSON.stringify(parsed);
  if (text.length > KMS_POLICY_MAX_LENGTH) throw new ValidationError(`must be at most ${KMS_POLICY_MAX_LENGTH} characters as JSON (AWS KMS's limit for a key policy), not ${text.length}`, field);
  return text;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
