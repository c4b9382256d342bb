/**
 * The rule that turns a verified token's claims into the caller (`Principal`, ports/token-verifier.ts),
 * shared by the Cognito and the local verifier (same claims: `sub`, `username`, `cognito:groups`).
 */
import { GROUPS } from '../../contract/env';
import { UnauthorizedError } from '../errors';
import type { Principal } from '../ports/token-verifier';

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
