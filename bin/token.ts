/**
 * Entry point of `npm run -s token -- [--state-dir DIR] --user NAME [--group cckm-users|cckm-admins]`:
 * prints a local access token for any user (lambdas/local/token-cli.ts says how).
 */
import { runTokenCli } from '../lambdas/local/token-cli';

runTokenCli(process.argv.slice(2), (text) => process.stdout.write(text), (text) => process.stderr.write(text)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`could not issue a token: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
