import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { FetchError } from 'aws-jwt-verify/error';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { CognitoTokenVerifier } from '../../../lambdas/adapters/aws/cognito-token-verifier';
import { API_SCOPE } from '../../../lambdas/contract/env';
import { DependencyError, UnauthorizedError } from '../../../lambdas/core/errors';

const USER_POOL_ID = 'us-east-1_TestPool1';
const CLIENT_ID = 'client-123';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${USER_POOL_ID}`;

let privateKey: CryptoKey;
let verifier: CognitoTokenVerifier;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  verifier = CognitoTokenVerifier.create({ userPoolId: USER_POOL_ID, clientId: CLIENT_ID, jwks: { keys: [jwk] } as Jwks });
});

function token(claims: Record<string, unknown> = {}, options: { expiresIn?: string; key?: CryptoKey } = {}): Promise<string> {
  return new SignJWT({ token_use: 'access', client_id: CLIENT_ID, scope: API_SCOPE, username: 'alice', 'cognito:groups': ['cckm-users'], ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
    .setIssuer(ISSUER)
    .setSubject('sub-alice')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(options.key ?? privateKey);
}

describe('CognitoTokenVerifier', () => {
  it('turns a valid access token into a principal with its groups', async () => {
    await expect(verifier.verify(await token())).resolves.toEqual({ subject: 'sub-alice', username: 'alice', groups: ['cckm-users'], isAdmin: false });
    await expect(verifier.verify(await token({ 'cognito:groups': ['cckm-admins'] }))).resolves.toMatchObject({ isAdmin: true });
    await expect(verifier.verify(await token({ 'cognito:groups': undefined }))).resolves.toMatchObject({ groups: [], isAdmin: false });
  });

  it.each<[string, () => Promise<string>]>([
    ['expired', () => token({}, { expiresIn: '-1m' })],
    ['an ID token', () => token({ token_use: 'id' })],
    ['for another app client', () => token({ client_id: 'other' })],
    ['from another issuer', () => new SignJWT({ token_use: 'access', client_id: CLIENT_ID, username: 'a' }).setProtectedHeader({ alg: 'RS256', kid: 'key-1' }).setIssuer('https://evil.example.com').setSubject('s').setExpirationTime('1h').sign(privateKey)],
    ['signed by another key', async () => token({}, { key: (await generateKeyPair('RS256')).privateKey })],
    ['without a username', () => token({ username: undefined })],
    ['without the API scope', () => token({ scope: 'openid email' })],
    ['not a JWT', async () => 'not-a-jwt'],
  ])('answers 401 to a token that is %s', async (_, make) => {
    await expect(verifier.verify(await make())).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('answers 502, not 401, when the signing keys cannot be fetched', async () => {
    const failing = new CognitoTokenVerifier({ verify: async () => Promise.reject(new FetchError('https://cognito-idp.example/jwks.json', 'connection refused')) });
    await expect(failing.verify('x')).rejects.toBeInstanceOf(DependencyError);
  });
});
