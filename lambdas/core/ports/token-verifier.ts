/** The port that turns a bearer token into the caller: Cognito on AWS, a local signing key in local mode. */
import type { Principal } from '../accounts/principal';

/** Verifies a bearer token; throws `UnauthorizedError` for a missing, expired or forged token. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}
