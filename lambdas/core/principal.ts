/**
 * Who is calling the management API, as established from a verified bearer token
 * (Cognito on AWS, a locally generated key in local mode; same claims: `sub`, `username`,
 * `cognito:groups`).
 */
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
