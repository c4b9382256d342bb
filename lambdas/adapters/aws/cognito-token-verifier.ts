/**
 * `TokenVerifier` for Cognito access tokens (aws-jwt-verify: signature against the user pool's
 * JWKS, issuer, expiry, `token_use: access`, the app client, the `API_SCOPE` that API Gateway's
 * authorizer requires too, so both accept the same token). Groups come from `cognito:groups`;
 * membership of the admins group makes an admin.
 */
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { FetchError, JwksNotAvailableInCacheError, JwtBaseError } from 'aws-jwt-verify/error';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { API_SCOPE } from '../../contract/env';
import { DependencyError, UnauthorizedError } from '../../core/errors';
import { principalFromClaims } from '../../core/accounts/principal';
import type { Principal, TokenVerifier } from '../../core/ports/token-verifier';

/** The part of aws-jwt-verify's verifier used here (a prepared one in tests, with cached JWKS). */
export interface CognitoAccessTokenVerifier {
  verify(token: string): Promise<Record<string, unknown>>;
}

export interface CognitoTokenVerifierProps {
  readonly userPoolId: string;
  /** The app client whose tokens are accepted. */
  readonly clientId: string;
  /**
   * The user pool's JWKS, when known in advance (tests); otherwise fetched on first use and cached.
   * @default - fetched from the user pool's well-known URL
   */
  readonly jwks?: Jwks;
}

export class CognitoTokenVerifier implements TokenVerifier {
  constructor(private readonly verifier: CognitoAccessTokenVerifier) {}

  static create(props: CognitoTokenVerifierProps): CognitoTokenVerifier {
    const verifier = CognitoJwtVerifier.create({ userPoolId: props.userPoolId, tokenUse: 'access', clientId: props.clientId, scope: API_SCOPE });
    if (props.jwks) verifier.cacheJwks(props.jwks);
    return new CognitoTokenVerifier({ verify: (token) => verifier.verify(token) as Promise<Record<string, unknown>> });
  }

  async verify(token: string): Promise<Principal> {
    let payload: Record<string, unknown>;
    try {
      payload = await this.verifier.verify(token);
    } catch (error) {
      // The JWKS could not be fetched: not the caller's fault, and not something to answer 401 to.
      if (error instanceof FetchError || error instanceof JwksNotAvailableInCacheError) {
        throw new DependencyError('The user pool signing keys could not be fetched', { cause: error });
      }
      if (error instanceof JwtBaseError) throw new UnauthorizedError('The bearer token is invalid or has expired', { cause: error });
      throw error;
    }
    return principalFromClaims(payload);
  }
}
