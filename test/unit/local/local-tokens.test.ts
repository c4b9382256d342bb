import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, SignJWT } from 'jose';
import {
  issueLocalToken,
  loadOrCreateSigningKey,
  loadVerificationKey,
  LocalTokenVerifier,
  localTokenKeyDir,
} from '../../../lambdas/local/adapters/local-tokens';
import { GROUPS } from '../../../lambdas/contract/env';
import { UnauthorizedError } from '../../../lambdas/core/errors';

describe('local tokens', () => {
  let stateDir: string;

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'local-tokens-'));
  });

  afterEach(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('creates the key pair once and reuses it on later starts', async () => {
    // Arrange
    const first = loadOrCreateSigningKey(stateDir);

    // Act
    const second = loadOrCreateSigningKey(stateDir);

    // Assert
    expect(second.export({ format: 'jwk' })).toEqual(first.export({ format: 'jwk' }));
    expect(statSync(join(localTokenKeyDir(stateDir), 'private.pem')).mode & 0o077).toBe(0);
  });

  it('issues a token with Cognito access-token claims', async () => {
    // Arrange
    const key = loadOrCreateSigningKey(stateDir);

    // Act
    const token = await issueLocalToken(key, { username: 'alice', groups: [GROUPS.users], expiresIn: '1h' });

    // Assert
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: 'local',
      username: 'alice',
      'cognito:groups': [GROUPS.users],
      token_use: 'access',
    });
    expect(claims.sub).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
  });

  it('verifies an admin token as an admin principal', async () => {
    // Arrange
    const token = await issueLocalToken(loadOrCreateSigningKey(stateDir), { username: 'admin', groups: [GROUPS.admins] });
    const verifier = LocalTokenVerifier.fromStateDir(stateDir);

    // Act
    const principal = await verifier.verify(token);

    // Assert
    expect(principal).toEqual({
      subject: decodeJwt(token).sub,
      username: 'admin',
      groups: [GROUPS.admins],
      isAdmin: true,
    });
  });

  it('verifies a user token as a non-admin principal with a stable subject', async () => {
    // Arrange
    const key = loadOrCreateSigningKey(stateDir);
    const verifier = new LocalTokenVerifier(loadVerificationKey(stateDir));

    // Act
    const first = await verifier.verify(await issueLocalToken(key, { username: 'bob', groups: [GROUPS.users] }));
    const second = await verifier.verify(await issueLocalToken(key, { username: 'bob', groups: [] }));

    // Assert
    expect(first.isAdmin).toBe(false);
    expect(first.groups).toEqual([GROUPS.users]);
    expect(second.subject).toBe(first.subject);
  });

  it('rejects an expired token with UnauthorizedError', async () => {
    // Arrange
    const token = await issueLocalToken(loadOrCreateSigningKey(stateDir), { username: 'admin', groups: [GROUPS.admins], expiresIn: -10 });

    // Act / Assert
    await expect(LocalTokenVerifier.fromStateDir(stateDir).verify(token)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('rejects a token signed by another key', async () => {
    // Arrange
    loadOrCreateSigningKey(stateDir);
    const { privateKey: otherKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = await issueLocalToken(otherKey, { username: 'admin', groups: [GROUPS.admins] });

    // Act / Assert
    await expect(LocalTokenVerifier.fromStateDir(stateDir).verify(forged)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('rejects a tampered token', async () => {
    // Arrange
    const token = await issueLocalToken(loadOrCreateSigningKey(stateDir), { username: 'bob', groups: [GROUPS.users] });
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...decodeJwt(token), 'cognito:groups': [GROUPS.admins] })).toString('base64url');

    // Act / Assert
    await expect(LocalTokenVerifier.fromStateDir(stateDir).verify(`${header}.${payload}.${signature}`)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it.each([
    ['garbage', 'not-a-jwt'],
    ['empty', ''],
  ])('rejects a %s token', async (_name, token) => {
    loadOrCreateSigningKey(stateDir);
    await expect(LocalTokenVerifier.fromStateDir(stateDir).verify(token)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('rejects a validly signed token that is not an access token', async () => {
    // Arrange: an ID-token-shaped token from the right key
    const key = loadOrCreateSigningKey(stateDir);
    const idToken = await new SignJWT({ 'cognito:username': 'admin', 'cognito:groups': [GROUPS.admins], token_use: 'id' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('local')
      .setSubject('s')
      .setExpirationTime('1h')
      .sign(key);

    // Act / Assert
    await expect(LocalTokenVerifier.fromStateDir(stateDir).verify(idToken)).rejects.toThrow(/not an access token/);
  });

  it('rejects a token from another issuer', async () => {
    const key = loadOrCreateSigningKey(stateDir);
    const token = await new SignJWT({ username: 'admin', 'cognito:groups': [GROUPS.admins], token_use: 'access' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('https://cognito-idp.example')
      .setSubject('s')
      .setExpirationTime('1h')
      .sign(key);
    await expect(LocalTokenVerifier.fromStateDir(stateDir).verify(token)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('says how to create the key when the state folder has none', () => {
    expect(() => LocalTokenVerifier.fromStateDir(stateDir)).toThrow(/npm start/);
  });
});
