/**
 * The port that turns a bearer token into the caller: Cognito on AWS, a local signing key in local
 * mode (both apply core/accounts/principal.ts `principalFromClaims`).
 */

/** Who is calling the management API, as established from a verified bearer token. */
export interface Principal {
  readonly subject: string;
  readonly username: string;
  readonly groups: readonly string[];
  /** Member of the admins group (`cckm-admins`): may do everything. */
  readonly isAdmin: boolean;
}

/** Verifies a bearer token; throws `UnauthorizedError` for a missing, expired or forged token. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}
