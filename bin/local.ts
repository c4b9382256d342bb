/**
 * Entry point of the local runner (`npm start`): the whole key manager on this machine.
 *
 *   npx tsx bin/local.ts [--port 8080] [--xks-port 8443] [--state-dir .local]
 *
 * Everything it runs lives in lambdas/local/ (runner.ts says what it starts, in order).
 */
import { main } from '../lambdas/local/runner';

main();
