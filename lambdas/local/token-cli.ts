/**
 * `npm run -s token -- [--state-dir DIR] --user NAME [--group cckm-users|cckm-admins]`: prints an
 * access token for any local user, signed by the local system's key (`<state dir>/jwt/`), with the
 * claims Cognito puts in one. Only the token goes to stdout, so `TOKEN=$(npm run -s token -- ...)`
 * works; errors go to stderr with exit code 2.
 *
 * The key is the one `npm start` created; a state folder without one is an error (a new key would
 * sign tokens the running system does not accept).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GROUPS } from '../contract/env';
import { issueLocalToken, loadOrCreateSigningKey, localTokenKeyDir } from './adapters/local-tokens';

const USAGE = 'usage: npm run -s token -- [--state-dir DIR] --user NAME [--group cckm-users|cckm-admins]';
const USERNAME_PATTERN = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;

export interface TokenCliOptions {
  readonly stateDir: string;
  readonly user: string;
  readonly group: string;
}

/** The options, or a message saying what is wrong with them. */
export function parseTokenCliArgs(args: readonly string[]): TokenCliOptions | { readonly error: string } {
  let values: { 'state-dir'?: string; user?: string; group?: string };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { 'state-dir': { type: 'string', default: '.local' }, user: { type: 'string' }, group: { type: 'string', default: GROUPS.users } },
      strict: true,
    }));
  } catch (error) {
    return { error: (error as Error).message };
  }
  const groups: readonly string[] = Object.values(GROUPS);
  if (values.user === undefined) return { error: '--user NAME is required' };
  if (!USERNAME_PATTERN.test(values.user)) return { error: '--user must be 1-128 characters without spaces (Cognito usernames)' };
  if (!groups.includes(values.group ?? '')) return { error: `--group must be one of ${groups.join(', ')}` };
  return { stateDir: resolve(values['state-dir'] ?? '.local'), user: values.user, group: values.group as string };
}

/** Runs the command: writes the token (or the error) and returns the exit code. */
export async function runTokenCli(args: readonly string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const options = parseTokenCliArgs(args);
  if ('error' in options) {
    err(`${options.error}\n${USAGE}\n`);
    return 2;
  }
  if (!existsSync(join(localTokenKeyDir(options.stateDir), 'private.pem'))) {
    err(`no local token key under ${localTokenKeyDir(options.stateDir)}: start the local system first (npm start -- --state-dir ${options.stateDir})\n`);
    return 2;
  }
  const token = await issueLocalToken(loadOrCreateSigningKey(options.stateDir), { username: options.user, groups: [options.group] });
  out(`${token}\n`);
  return 0;
}
