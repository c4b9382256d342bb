/**
 * Who is calling the management API, as established from a verified bearer token
 * (Cognito on AWS, a locally generated key in local mode; same claims: `sub`, `username`,
 * `cognito:groups`).
 */
import { GROUPS } from '../../contract/env';
import { UnauthorizedError } from '../errors';

export interface Principal {
  readonly subject: string;
  readonly username: string;
  readonly groups: readonly string[];
  /** Member of the admins group (`cckm-admins`): may do everything. */
  readonly isAdmin: boolean;
}

/** The 401 message for a verified token whose claims are not those of an access token. */
export const NOT_AN_ACCESS_TOKEN = 'The bearer token is not an access token with the expected claims';

/** The caller named by a verified access token's claims; 401 unless `sub`, `username` and `cognito:groups` have their shapes. */
export function principalFromClaims(claims: Readonly<Record<string, unknown>>): Principal {
  const { sub, username } = claims;
  const groups = claims['cognito:groups'] ?? [];
  if (typeof sub !== 'string' || typeof username !== 'string' || !Array.isArray(groups) || !groups.every((g): g is string => typeof g === 'string')) {
    throw new UnauthorizedError(NOT_AN_ACCESS_TOKEN);
  }
  return { subject: sub, username, groups, isAdmin: groups.includes(GROUPS.admins) };
}
