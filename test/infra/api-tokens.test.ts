/**
 * The deployed API accepts its own tokens: the gateway's Cognito authorizer and the functions'
 * verifier require the same kind of token. A Cognito user pool sign-in issues an access token and
 * an ID token; both are built here the way Cognito shapes them and signed with the key the
 * verifier is given as the pool's JWKS.
 *
 * API Gateway's rule (AWS docs, "Integrate a REST API with an Amazon Cognito user pool"): a method
 * with authorization scopes accepts an access token whose `scope` claim holds one of them; a method
 * without scopes accepts an ID token only. `gatewayAccepts` below is that rule, applied to the
 * synthesized methods.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { CognitoTokenVerifier } from '../../lambdas/adapters/aws/cognito-token-verifier';
import { API_SCOPE, GROUPS } from '../../lambdas/contract/env';
import { routes } from '../../lambdas/contract/routes';
import { UnauthorizedError } from '../../lambdas/core/errors';
import { resourcesOfType, synthesizeApp } from './fixtures';

const USER_POOL_ID = 'us-east-1_TokenPool';
const CLIENT_ID = 'operator-client';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${USER_POOL_ID}`;

interface MethodProperties {
  readonly OperationName: string;
  readonly AuthorizationType: string;
  readonly AuthorizationScopes?: string[];
}

/** API Gateway's Cognito authorizer: scopes on the method → access token with one of them; none → ID token. */
function gatewayAccepts(method: MethodProperties, claims: Record<string, unknown>): boolean {
  if (method.AuthorizationType !== 'COGNITO_USER_POOLS') return true;
  const scopes = method.AuthorizationScopes ?? [];
  if (scopes.length === 0) return claims.token_use === 'id';
  const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  return claims.token_use === 'access' && scopes.some((s) => granted.includes(s));
}

let privateKey: CryptoKey;
let verifier: CognitoTokenVerifier;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'pool-key-1', alg: 'RS256', use: 'sig' };
  verifier = CognitoTokenVerifier.create({ userPoolId: USER_POOL_ID, clientId: CLIENT_ID, jwks: { keys: [jwk] } as Jwks });
});

/** The claims Cognito puts in each token of a USER_PASSWORD_AUTH sign-in (Cognito developer guide, "Understanding user pool JSON web tokens"). */
const COGNITO_CLAIMS = {
  access: { token_use: 'access', client_id: CLIENT_ID, scope: API_SCOPE, username: 'alice', 'cognito:groups': [GROUPS.admins], event_id: 'e-1', jti: 'j-1', auth_time: 1 },
  id: { token_use: 'id', aud: CLIENT_ID, 'cognito:username': 'alice', email: 'alice@example.org', email_verified: true, 'cognito:groups': [GROUPS.admins], event_id: 'e-1', jti: 'j-2', auth_time: 1 },
} as const;

function sign(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'pool-key-1' }).setIssuer(ISSUER).setSubject('sub-alice').setIssuedAt().setExpirationTime('15m').sign(privateKey);
}

function decode(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('tokens of a Cognito sign-in', () => {
  const methods = () => resourcesOfType(synthesizeApp(), 'AWS::ApiGateway::Method').map((m) => m.Properties as unknown as MethodProperties);

  it('the functions accept the access token and refuse the ID token', async () => {
    // Arrange
    const access = await sign(COGNITO_CLAIMS.access);
    const id = await sign(COGNITO_CLAIMS.id);
    // Act / Assert
    await expect(verifier.verify(access)).resolves.toMatchObject({ subject: 'sub-alice', username: 'alice', isAdmin: true });
    await expect(verifier.verify(id)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('the gateway requires the access token on every authenticated method, so both accept the same token', async () => {
    // Arrange
    const access = decode(await sign(COGNITO_CLAIMS.access));
    const id = decode(await sign(COGNITO_CLAIMS.id));
    const authenticated = methods().filter((m) => m.AuthorizationType === 'COGNITO_USER_POOLS');
    // Assert
    expect(authenticated).toHaveLength(routes.filter((r) => r.access.kind !== 'public').length);
    for (const method of authenticated) {
      expect({ operation: method.OperationName, access: gatewayAccepts(method, access), id: gatewayAccepts(method, id) }).toEqual({ operation: method.OperationName, access: true, id: false });
    }
  });

  it('without scopes the gateway would take only the ID token, which the functions refuse (the defect this guards against)', async () => {
    const unscoped: MethodProperties = { OperationName: 'X', AuthorizationType: 'COGNITO_USER_POOLS' };
    expect(gatewayAccepts(unscoped, decode(await sign(COGNITO_CLAIMS.access)))).toBe(false);
    expect(gatewayAccepts(unscoped, decode(await sign(COGNITO_CLAIMS.id)))).toBe(true);
  });
});

describe('methods and the app client', () => {
  it('puts COGNITO_USER_POOLS with a non-empty scope list on every method but the public health route', () => {
    const methods = resourcesOfType(synthesizeApp(), 'AWS::ApiGateway::Method').map((m) => m.Properties);
    expect(methods).toHaveLength(routes.length);
    const open = methods.filter((m) => m.AuthorizationType !== 'COGNITO_USER_POOLS');
    expect(open.map((m) => [m.OperationName, m.AuthorizationType, m.AuthorizationScopes])).toEqual([['GetKeyStoreHealth', 'NONE', undefined]]);
    for (const m of methods.filter((x) => x.AuthorizationType === 'COGNITO_USER_POOLS')) {
      expect({ operation: m.OperationName, scopes: m.AuthorizationScopes }).toEqual({ operation: m.OperationName, scopes: [API_SCOPE] });
      expect(m.AuthorizerId).toBeDefined();
    }
  });

  it('lets the app client sign in with the flows that issue that access token, for 15 minutes', () => {
    synthesizeApp().template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      AccessTokenValidity: 15,
      IdTokenValidity: 15,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'minutes' },
      AllowedOAuthFlowsUserPoolClient: false,
    });
  });
});
