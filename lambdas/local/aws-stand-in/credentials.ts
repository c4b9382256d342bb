/**
 * The credentials the stand-in issues and accepts: one long-term access key per account (what an
 * account's root or default user would hold) and the temporary credentials STS AssumeRole hands
 * out (access key id `ASIA...`, secret, session token, expiry). They live in the global scope of
 * the state, so they survive a restart like everything else.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { StandInState } from './state';

export const ACCESS_KEYS = 'accessKeys';

export interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly accountId: string;
  /** Temporary credentials only. */
  readonly sessionToken?: string;
  /** Temporary credentials only: epoch ms. */
  readonly expiration?: number;
  readonly roleArn?: string;
  readonly roleSessionName?: string;
}

/** Who signed a request, as GetCallerIdentity reports it. */
export interface Caller {
  readonly accountId: string;
  readonly arn: string;
  readonly userId: string;
  readonly accessKeyId: string;
  readonly kind: 'account' | 'assumed-role';
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `prefix` + 16 characters of AWS's access-key-id alphabet. */
function newAccessKeyId(prefix: 'AKIA' | 'ASIA'): string {
  const bytes = randomBytes(16);
  return prefix + [...bytes].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
}

const newSecret = (): string => randomBytes(30).toString('base64').slice(0, 40);

export class CredentialStore {
  constructor(
    private readonly state: StandInState,
    private readonly now: () => Date,
  ) {}

  private get keys() {
    return this.state.global().collection<AccessKeyRecord>(ACCESS_KEYS);
  }

  /**
   * The long-term access key of an account: the given one (registered if new), else the one
   * issued before, else a new one.
   */
  accountKey(accountId: string, given?: { readonly accessKeyId: string; readonly secretAccessKey: string }): AccessKeyRecord {
    if (given) {
      const existing = this.keys.get(given.accessKeyId);
      if (existing && existing.accountId !== accountId) throw new Error(`access key ${given.accessKeyId} already belongs to account ${existing.accountId}`);
      const record: AccessKeyRecord = { accessKeyId: given.accessKeyId, secretAccessKey: given.secretAccessKey, accountId };
      this.keys.put(record.accessKeyId, record);
      return record;
    }
    const existing = this.keys.values().find((key) => key.accountId === accountId && key.sessionToken === undefined);
    if (existing) return existing;
    const record: AccessKeyRecord = { accessKeyId: newAccessKeyId('AKIA'), secretAccessKey: newSecret(), accountId };
    this.keys.put(record.accessKeyId, record);
    return record;
  }

  /** Temporary credentials for a role session (STS AssumeRole). */
  issueSession(accountId: string, roleArn: string, roleSessionName: string, durationSeconds: number): AccessKeyRecord {
    const record: AccessKeyRecord = {
      accessKeyId: newAccessKeyId('ASIA'),
      secretAccessKey: newSecret(),
      accountId,
      sessionToken: randomBytes(96).toString('base64'),
      expiration: this.now().getTime() + durationSeconds * 1000,
      roleArn,
      roleSessionName,
    };
    this.keys.put(record.accessKeyId, record);
    return record;
  }

  find(accessKeyId: string): AccessKeyRecord | undefined {
    return this.keys.get(accessKeyId);
  }

  /** Forgets temporary credentials that expired more than a day ago. */
  purgeExpired(): void {
    const cutoff = this.now().getTime() - 24 * 3600 * 1000;
    for (const key of this.keys.values()) if (key.expiration !== undefined && key.expiration < cutoff) this.keys.delete(key.accessKeyId);
  }

  static callerOf(key: AccessKeyRecord): Caller {
    if (key.roleArn === undefined || key.roleSessionName === undefined) {
      return { accountId: key.accountId, arn: `arn:aws:iam::${key.accountId}:root`, userId: key.accountId, accessKeyId: key.accessKeyId, kind: 'account' };
    }
    const roleName = key.roleArn.slice(key.roleArn.lastIndexOf('/') + 1);
    return {
      accountId: key.accountId,
      arn: `arn:aws:sts::${key.accountId}:assumed-role/${roleName}/${key.roleSessionName}`,
      userId: `${roleIdOf(key.roleArn)}:${key.roleSessionName}`,
      accessKeyId: key.accessKeyId,
      kind: 'assumed-role',
    };
  }
}

/** A role's stable unique id (`AROA` + 17 characters), derived from its ARN. */
export function roleIdOf(roleArn: string): string {
  const digest = createHash('sha256').update(roleArn).digest();
  return 'AROA' + [...digest.subarray(0, 17)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
}
