/**
 * SoftHSM2 token set-up shared by jest's globalSetup, test/helpers/softhsm.ts and bin/local.ts.
 * SoftHSM2 finds its token folder through the config file named by `SOFTHSM2_CONF`; these
 * helpers write such a config and initialise tokens with `softhsm2-util` under it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The SoftHSM2 command-line tool (Debian package `softhsm2`). */
export const SOFTHSM2_UTIL = 'softhsm2-util';

export interface SoftHsmTokenOptions {
  /** CKA_LABEL of the token; partitions find their token by this label. */
  readonly label: string;
  /** User PIN (4–255 characters for SoftHSM2). */
  readonly pin: string;
  /** Security officer PIN. */
  readonly soPin: string;
}

/**
 * Writes `<dir>/softhsm2.conf` pointing at `<dir>/tokens` (both created) and returns the
 * config's absolute path, to be exported as `SOFTHSM2_CONF` before the library is loaded.
 */
export function writeSoftHsmConfig(dir: string): string {
  const base = resolve(dir);
  const tokenDir = join(base, 'tokens');
  mkdirSync(tokenDir, { recursive: true });
  const confPath = join(base, 'softhsm2.conf');
  writeFileSync(
    confPath,
    [
      `directories.tokendir = ${tokenDir}`,
      'objectstore.backend = file',
      'log.level = ERROR',
      'slots.removable = false',
      'slots.mechanisms = ALL',
      'library.reset_on_fork = false',
      '',
    ].join('\n'),
  );
  return confPath;
}

/**
 * Initialises a token in the first free slot of the SoftHSM2 instance configured by the current
 * `SOFTHSM2_CONF`. Fails with the tool's own message (the PINs are never part of it).
 */
export async function createSoftHsmToken({ label, pin, soPin }: SoftHsmTokenOptions): Promise<void> {
  if (!process.env.SOFTHSM2_CONF) {
    throw new Error('SOFTHSM2_CONF is not set: call writeSoftHsmConfig(dir) and export its path first');
  }
  // softhsm2-util reads every token folder before picking the free slot; a folder that another
  // process is creating or moving at that moment makes it fail ("… token in slot N"): try again.
  for (let attempt = 1; ; attempt += 1) {
    try {
      // execFile, not a shell: the PINs are arguments, never interpreted or echoed.
      await execFileAsync(SOFTHSM2_UTIL, ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin], {
        env: process.env,
      });
      return;
    } catch (error) {
      // Only the tool's stderr and exit code: the error's own message repeats the command line, PINs included.
      const { stderr, code } = error as { stderr?: string; code?: number | string };
      const detail = stderr?.trim() || `exit code ${String(code)}`;
      if (attempt < 5 && /\bslot\b/i.test(detail)) {
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        continue;
      }
      throw new Error(`${SOFTHSM2_UTIL} could not initialise token ${JSON.stringify(label)}: ${detail}`);
    }
  }
}
