/**
 * The operators' identities: a Cognito user pool with the groups the API authorizes on
 * (`GROUPS` in lambdas/contract/env.ts), or an existing pool the customer already runs.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { GROUPS } from '../../lambdas/contract/env';
import { acknowledge } from '../private/nag';

export interface UserDirectoryProps {
  /**
   * Use this existing user pool. It must have the groups `cckm-admins` and `cckm-users`.
   * @default - a user pool is created
   */
  readonly existingUserPoolId?: string;
  /** App client of `existingUserPoolId` whose tokens the API accepts. Required with it. */
  readonly existingUserPoolClientId?: string;
  /**
   * E-mail of the first administrator, created in a new pool's admins group; Cognito e-mails a
   * temporary password.
   * @default - no user is created
   */
  readonly adminEmail?: string;
  /**
   * How long a new pool's access and ID tokens last (5 minutes to 1 day). Removing someone from
   * a group takes effect when their current token expires, so keep it short.
   * @default Duration.minutes(15)
   */
  readonly accessTokenValidity?: Duration;
}

export class UserDirectory extends Construct {
  public readonly userPool: cognito.IUserPool;
  public readonly userPoolClient: cognito.IUserPoolClient;

  constructor(scope: Construct, id: string, props: UserDirectoryProps = {}) {
    super(scope, id);
    const tokenValidity = props.accessTokenValidity ?? Duration.minutes(15);
    if (tokenValidity.toMinutes() < 5 || tokenValidity.toMinutes() > 1440) {
      throw new Error(`UserDirectory ${this.node.path}: accessTokenValidity must be from 5 minutes to 1 day (Cognito's range); got ${tokenValidity.toMinutes()} minutes.`);
    }
    if (props.existingUserPoolId) {
      if (!props.existingUserPoolClientId) {
        throw new Error(`UserDirectory ${this.node.path}: existingUserPoolId needs existingUserPoolClientId (the app client whose tokens the API accepts).`);
      }
      if (props.adminEmail) {
        throw new Error(`UserDirectory ${this.node.path}: adminEmail only applies to a pool created here; add the admin to "${GROUPS.admins}" of ${props.existingUserPoolId} yourself.`);
      }
      this.userPool = cognito.UserPool.fromUserPoolId(this, 'UserPool', props.existingUserPoolId);
      this.userPoolClient = cognito.UserPoolClient.fromUserPoolClientId(this, 'Client', props.existingUserPoolClientId);
      return;
    }
    if (props.existingUserPoolClientId) {
      throw new Error(`UserDirectory ${this.node.path}: existingUserPoolClientId is only used with existingUserPoolId.`);
    }

    const pool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      // E-mail as the username attribute: the initial admin is created and signs in by e-mail.
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: { minLength: 14, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const tierReason = 'Cognito threat protection needs the paid Plus feature plan; operators sign in with a strong password and required TOTP MFA, self sign-up is off, and every API call is authorized per group and ACL. Switch the pool to Plus if your policy requires it.';
    acknowledge(pool, 'AwsSolutions-COG3', tierReason);
    acknowledge(pool, 'AwsSolutions-COG8', tierReason);
    for (const [key, name] of Object.entries(GROUPS)) {
      new cognito.CfnUserPoolGroup(this, `Group-${key}`, { userPoolId: pool.userPoolId, groupName: name });
    }
    this.userPool = pool;
    this.userPoolClient = pool.addClient('OperatorClient', {
      // SRP for SDK/UI sign-in; USER_PASSWORD_AUTH for `aws cognito-idp initiate-auth` from the README.
      // Both issue an access token carrying API_SCOPE, the scope every authenticated method requires.
      authFlows: { userSrp: true, userPassword: true },
      // No hosted UI or OAuth redirect: without this CDK would allow the implicit grant to https://example.com.
      disableOAuth: true,
      generateSecret: false,
      preventUserExistenceErrors: true,
      accessTokenValidity: tokenValidity,
      idTokenValidity: tokenValidity,
      refreshTokenValidity: Duration.hours(12),
    });

    if (props.adminEmail) {
      const admin = new cognito.CfnUserPoolUser(this, 'InitialAdmin', {
        userPoolId: pool.userPoolId,
        username: props.adminEmail,
        userAttributes: [{ name: 'email', value: props.adminEmail }, { name: 'email_verified', value: 'true' }],
        desiredDeliveryMediums: ['EMAIL'],
      });
      const membership = new cognito.CfnUserPoolUserToGroupAttachment(this, 'InitialAdminMembership', {
        userPoolId: pool.userPoolId,
        groupName: GROUPS.admins,
        username: props.adminEmail,
      });
      membership.addResourceDependency(admin);
      for (const child of this.node.children) {
        if (child instanceof cognito.CfnUserPoolGroup) membership.addResourceDependency(child);
      }
    }
  }
}
