/**
 * Least-privilege access to the deployment's Secrets Manager secrets, one name prefix per kind of
 * secret (`SECRET_PREFIXES` in lambdas/contract/env.ts) under the deployment's namespace
 * (`<stack name>/`, so two deployments in one account share no name and no grant). The secrets
 * themselves are created at run time by the control plane, so access is granted on name patterns,
 * never on `*`.
 *
 * The secrets are encrypted with the deployment's own KMS key (rotated yearly). Its key policy lets
 * the account administer the key but use it only through Secrets Manager, for this deployment's
 * secrets, and only by the roles of the capability: `kms:Decrypt` to the roles under `readerPath`
 * and `writerPath`, `kms:GenerateDataKey` (encrypting a new value) to those under `writerPath`
 * (Secrets Manager also decrypts while writing, so writers hold both). The roles' own policies
 * must grant the same (`grantRead`, `grantReadWrite`); roles that only delete secrets
 * (`grantDelete`) may not read a value and get no KMS permission at all.
 *
 * The other half of the fence is the secrets' own resource policy, which the runtime attaches when
 * it creates each secret (adapters/aws/secrets-manager-secret-store.ts): it denies every principal
 * whose ARN is not `allowedPrincipalArnPattern`, i.e. every role outside `rolePath`. So the roles
 * this deployment grants secrets to must live under `rolePath` (or its reader/writer sub-paths); a
 * grant to any other role fails synthesis rather than failing with AccessDenied at run time.
 */
import { Arn, ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ENV, SECRET_PREFIXES } from '../../lambdas/contract/env';
import type { SecretAccess } from '../../lambdas/contract/routes';
import { acknowledgeWildcardGrant } from '../private/nag';

/** The kinds of secrets a route may need (`RouteNeeds.secrets`). */
export type SecretKind = keyof typeof SECRET_PREFIXES;

/** What one secret of each kind belongs to (for the messages). */
const SECRET_OWNERS: Readonly<Record<SecretKind, string>> = { xks: 'XKS credential', hsmPin: 'HSM partition', cloudHsmPassword: 'CloudHSM key store (its kmsuser password)' };

/** Actions to read a secret's value. */
const READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
/**
 * Actions to create, replace and delete secrets (plus tagging, which CreateSecret with tags needs,
 * restoring one pending deletion, and attaching the resource policy at creation).
 */
const WRITE_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:TagResource',
  'secretsmanager:PutResourcePolicy',
];
/** What a function that only deletes secrets calls (the store's `delete`). */
const DELETE_ACTIONS = ['secretsmanager:DeleteSecret'];

/**
 * Key administration for the account: everything but using the key (no encrypt, decrypt, data
 * keys or re-encrypt) or handing its use to someone (no CreateGrant, which would bypass the
 * conditions below). PutKeyPolicy stays, so that the key can never become unmanageable.
 */
const KEY_ADMIN_ACTIONS = [
  'kms:CreateAlias', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*',
  'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:RotateKeyOnDemand',
];

export interface SecretPrefixesProps {
  /**
   * IAM path of the roles that may use the secrets; the secrets' resource policy denies all others.
   * @default `/xks-key-manager/<stack name>/`
   */
  readonly rolePath?: string;
  /**
   * Prefix of every secret name, so that deployments in one account stay apart.
   * @default `<stack name>/`
   */
  readonly namePrefix?: string;
}

export class SecretPrefixes extends Construct {
  /** IAM path (`/…/`) under which every role granted access here must be (OperationFunction, HsmAgent, XksProxy set it). */
  public readonly rolePath: string;
  /** Sub-path of the roles that read secret values (`grantRead`): the key policy lets them decrypt. */
  public readonly readerPath: string;
  /** Sub-path of the roles that write secrets (`grantReadWrite`): the key policy lets them encrypt and decrypt. */
  public readonly writerPath: string;
  /** `arn:<partition>:iam::<account>:role<rolePath>*`: the principals the secrets' resource policy lets in. */
  public readonly allowedPrincipalArnPattern: string;
  /** Prepended to every secret name at run time (ENV.secretNamePrefix). */
  public readonly namePrefix: string;
  /** The customer-managed key (rotation on) that encrypts every secret of the deployment. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: SecretPrefixesProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.rolePath = props.rolePath ?? `/xks-key-manager/${stack.stackName}/`;
    if (!/^\/(?:[\x21-\x2e\x30-\x7e]+\/)+$/.test(this.rolePath) || this.rolePath.length > 500) {
      throw new Error(`SecretPrefixes ${this.node.path}: rolePath must be an IAM path like /xks-key-manager/prod/ (slash-delimited, printable ASCII, at most 500 characters); got "${this.rolePath}".`);
    }
    this.readerPath = `${this.rolePath}reads-secrets/`;
    this.writerPath = `${this.rolePath}writes-secrets/`;
    this.namePrefix = props.namePrefix ?? `${stack.stackName}/`;
    if (!/^[\w/+=.@-]*$/.test(this.namePrefix)) throw new Error(`SecretPrefixes ${this.node.path}: namePrefix may hold only the characters of secret names (letters, digits, /_+=.@-); got "${this.namePrefix}".`);
    this.allowedPrincipalArnPattern = this.rolePattern(this.rolePath);

    const viaSecretsManager = {
      StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com`, 'kms:CallerAccount': Aws.ACCOUNT_ID },
      StringLike: { 'kms:EncryptionContext:SecretARN': this.secretArnPattern(`${SECRET_PREFIXES.xks.split('/')[0]}/`) },
    };
    const account = new iam.AccountRootPrincipal();
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the Secrets Manager secrets of ${stack.stackName} (XKS credentials, HSM partition PINs, CloudHSM kmsuser passwords)`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(30),
      // Secrets outlive the stack (they are created at run time); so must the key that decrypts them.
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({ sid: 'AccountAdministersTheKeyButCannotUseIt', principals: [account], actions: KEY_ADMIN_ACTIONS, resources: ['*'] }),
          new iam.PolicyStatement({
            sid: 'SecretReadersAndWritersDecryptThroughSecretsManager',
            principals: [account],
            actions: ['kms:Decrypt'],
            resources: ['*'],
            conditions: { ...viaSecretsManager, ArnLike: { 'aws:PrincipalArn': [this.rolePattern(this.readerPath), this.rolePattern(this.writerPath)] } },
          }),
          new iam.PolicyStatement({
            sid: 'SecretWritersEncryptThroughSecretsManager',
            principals: [account],
            actions: ['kms:GenerateDataKey'],
            resources: ['*'],
            conditions: { ...viaSecretsManager, ArnLike: { 'aws:PrincipalArn': this.rolePattern(this.writerPath) } },
          }),
        ],
      }),
    });
  }

  /** The IAM path a role with `access` to secrets must have (the key policy tells them apart by it). */
  public rolePathFor(access: SecretAccess | 'none'): string {
    if (access === 'read') return this.readerPath;
    if (access === 'write') return this.writerPath;
    return this.rolePath;
  }

  /** The environment a function that touches secrets with `access` needs. */
  public environmentFor(access: SecretAccess): Record<string, string> {
    return {
      [ENV.secretNamePrefix]: this.namePrefix,
      ...(access === 'write' ? { [ENV.secretsKmsKeyId]: this.key.keyArn, [ENV.secretsAllowedPrincipalArnPattern]: this.allowedPrincipalArnPattern } : {}),
    };
  }

  /** ARN pattern of every secret of `kind` (Secrets Manager appends a random 6-character suffix to names). */
  public arnPattern(kind: SecretKind): string {
    return this.secretArnPattern(SECRET_PREFIXES[kind]);
  }

  /** Read the values of the secrets of `kind` (and decrypt them with the key). */
  public grantRead(grantee: iam.IGrantable, kind: SecretKind): iam.Grant {
    this.requireRolePath(grantee, this.readerPath, this.writerPath);
    this.acknowledgePattern(grantee, kind);
    this.grantKey(grantee, ['kms:Decrypt']);
    return iam.Grant.addToPrincipal({ grantee, actions: READ_ACTIONS, resourceArns: [this.arnPattern(kind)] });
  }

  /** Read, create, replace and delete the secrets of `kind`, attach their resource policy, and encrypt and decrypt with the key. */
  public grantReadWrite(grantee: iam.IGrantable, kind: SecretKind): iam.Grant {
    this.requireRolePath(grantee, this.writerPath);
    this.acknowledgePattern(grantee, kind);
    this.grantKey(grantee, ['kms:Decrypt', 'kms:GenerateDataKey']);
    return iam.Grant.addToPrincipal({ grantee, actions: [...READ_ACTIONS, ...WRITE_ACTIONS], resourceArns: [this.arnPattern(kind)] });
  }

  /** Delete the secrets of `kind`, and nothing else: no value, no key. */
  public grantDelete(grantee: iam.IGrantable, kind: SecretKind): iam.Grant {
    this.requireRolePath(grantee, this.rolePath, this.readerPath, this.writerPath);
    this.acknowledgePattern(grantee, kind);
    return iam.Grant.addToPrincipal({ grantee, actions: DELETE_ACTIONS, resourceArns: [this.arnPattern(kind)] });
  }

  /** The grant of `access` (as a route's `needs.secrets` says it). */
  public grant(grantee: iam.IGrantable, kind: SecretKind, access: SecretAccess): iam.Grant {
    if (access === 'write') return this.grantReadWrite(grantee, kind);
    if (access === 'read') return this.grantRead(grantee, kind);
    return this.grantDelete(grantee, kind);
  }

  private grantKey(grantee: iam.IGrantable, actions: string[]): void {
    iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.key.keyArn], conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } } });
  }

  private secretArnPattern(prefix: string): string {
    return Arn.format({ service: 'secretsmanager', resource: 'secret', resourceName: `${this.namePrefix}${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, Stack.of(this));
  }

  private rolePattern(path: string): string {
    return Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${path.slice(1)}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  }

  /** The secrets' resource policy (and the key policy) would deny a role outside its path: refuse the grant at synthesis instead. */
  private requireRolePath(grantee: iam.IGrantable, ...paths: string[]): void {
    const role = grantee.grantPrincipal;
    const path = role instanceof iam.Role ? (role.node.defaultChild as iam.CfnRole).path : undefined;
    if (path === undefined || !paths.includes(path)) {
      throw new Error(
        `SecretPrefixes ${this.node.path}: ${Construct.isConstruct(role) ? role.node.path : 'the grantee'} must be an iam.Role with path ${paths.join(' or ')} (see rolePathFor): the secrets' resource policy and key policy deny every other principal.`,
      );
    }
  }

  private acknowledgePattern(grantee: iam.IGrantable, kind: SecretKind): void {
    acknowledgeWildcardGrant(grantee, this.arnPattern(kind), `Secrets are created at run time, one per ${SECRET_OWNERS[kind]}; the grant covers the names under ${this.namePrefix}${SECRET_PREFIXES[kind]} only (plus the random suffix Secrets Manager appends).`);
  }
}
