/**
 * Local-mode bearer tokens: the stand-in for Cognito when the system runs on one machine
 * (bin/local.ts). An ES256 key pair is generated on the first start and kept under
 * `<state dir>/jwt/`; tokens carry the claims of a Cognito access token (`sub`, `username`,
 * `cognito:groups`, `token_use: 'access'`), so the authorizer treats both the same way.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import { UnauthorizedError } from '../../core/errors';
import { NOT_AN_ACCESS_TOKEN, principalFromClaims } from '../../core/accounts/principal';
import type { Principal, TokenVerifier } from '../../core/ports/token-verifier';

/** `iss` of local tokens (and the only issuer LocalTokenVerifier accepts). */
export const LOCAL_TOKEN_ISSUER = 'local';
const ALGORITHM = 'ES256';
const PRIVATE_KEY_FILE = 'private.pem';
const PUBLIC_KEY_FILE = 'public.pem';

/** Where the signing key pair lives under the runner's state folder. */
export function localTokenKeyDir(stateDir: string): string {
  return join(stateDir, 'jwt');
}

/**
 * Reads the key pair under `<stateDir>/jwt/`, creating it on the first call. The private key
 * file is readable by its owner only.
 */
export function loadOrCreateSigningKey(stateDir: string): KeyObject {
  const dir = localTokenKeyDir(stateDir);
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  if (!existsSync(privatePath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    // 'wx': never overwrite a key another process wrote meanwhile (its tokens would stop verifying).
    writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    writeFileSync(join(dir, PUBLIC_KEY_FILE), publicKey.export({ type: 'spki', format: 'pem' }));
  }
  return createPrivateKey(readFileSync(privatePath));
}

/** The verification key written by `loadOrCreateSigningKey`. */
export function loadVerificationKey(stateDir: string): KeyObject {
  const path = join(localTokenKeyDir(stateDir), PUBLIC_KEY_FILE);
  if (!existsSync(path)) {
    throw new Error(`no local token key at ${path}: start the local system (npm start) to create it`);
  }
  return createPublicKey(readFileSync(path));
}

export interface LocalTokenRequest {
  readonly username: string;
  readonly groups: readonly string[];
  /** jose duration (`'12h'`, `'30d'`) or seconds. @default '30d' */
  readonly expiresIn?: string | number;
}

/** A stable Cognito-style `sub` (UUID-shaped) for a local username. */
function subjectFor(username: string): string {
  const hex = createHash('sha256').update(`local-user:${username}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Signs an access token with the claims Cognito puts in one. */
export async function issueLocalToken(privateKey: KeyObject, request: LocalTokenRequest): Promise<string> {
  const expiresIn = request.expiresIn ?? '30d';
  return new SignJWT({
    username: request.username,
    'cognito:groups': [...request.groups],
    token_use: 'access',
    client_id: LOCAL_TOKEN_ISSUER,
    scope: 'aws.cognito.signin.user.admin',
  })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuer(LOCAL_TOKEN_ISSUER)
    .setSubject(subjectFor(request.username))
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn)
    .sign(privateKey);
}

/** Verifies local tokens; any failure (signature, issuer, expiry, claims) is a 401. */
export class LocalTokenVerifier implements TokenVerifier {
  constructor(private readonly publicKey: KeyObject) {}

  /** Verifier over the key pair of a runner's state folder. */
  static fromStateDir(stateDir: string): LocalTokenVerifier {
    return new LocalTokenVerifier(loadVerificationKey(stateDir));
  }

  async verify(token: string): Promise<Principal> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, {
        issuer: LOCAL_TOKEN_ISSUER,
        algorithms: [ALGORITHM],
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw new UnauthorizedError('The bearer token is invalid or has expired', { cause: error });
    }
    // aws-jwt-verify checks `token_use` for Cognito tokens; jose knows nothing of it.
    if (payload.token_use !== 'access') throw new UnauthorizedError(NOT_AN_ACCESS_TOKEN);
    return principalFromClaims(payload);
  }
}
