/**
 * The daily sweep's entry point: on AWS a Lambda function that EventBridge Scheduler invokes once a
 * day (lib/constructs/daily-sweep.ts); locally the runner calls `runDailySweep` in-process at start
 * and then every day. What it does is core/secrets/orphan-secret-sweep.ts; this file builds its
 * ports from the configuration (once per container) and logs the report: names and ids only.
 * An orphan that could not be removed fails the invocation after the report is logged, so that it
 * shows as a function error (the next run tries again; everything it does is idempotent).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { PendingHsmKeys } from '../core/hsm/pending-hsm-keys';
import { OrphanSecretSweep, type SweepReport } from '../core/secrets/orphan-secret-sweep';
import { portsFor } from '../runtime/adapter-set';
import { loadConfig } from '../runtime/config';
import type { Ports } from '../runtime/ports';

export type DailySweepPorts = Pick<Ports, 'state' | 'secrets' | 'hsmAgent' | 'clock'>;

/** Runs the sweep once over `ports` and logs what it did. */
export async function runDailySweep(ports: DailySweepPorts, logger: Pick<Logger, 'info' | 'warn'>): Promise<SweepReport> {
  const { state, secrets, hsmAgent, clock } = ports;
  const sweep = new OrphanSecretSweep({ state, secrets, clock, pendingHsmKeys: new PendingHsmKeys({ state, hsmAgent, clock }) });
  const report = await sweep.run();
  logger.info('daily sweep done', {
    removedSecrets: report.removedSecrets,
    failedSecrets: report.failedSecrets,
    unreferencedWithinGracePeriod: report.youngOrphans.length,
    hsmKeysCompleted: report.hsmKeys.completed,
    hsmKeysRemoved: report.hsmKeys.removed,
    hsmKeysStillPending: report.hsmKeys.unsettled,
  });
  if (report.failedSecrets.length > 0) logger.warn('some unreferenced secrets could not be removed; the next sweep tries again', { failedSecrets: report.failedSecrets });
  return report;
}

const logger = new Logger({ serviceName: 'daily-sweep' });
let ports: DailySweepPorts | undefined;

export const handler = async (): Promise<void> => {
  ports ??= portsFor(loadConfig());
  const report = await runDailySweep(ports, logger);
  if (report.failedSecrets.length > 0) throw new Error(`${report.failedSecrets.length} unreferenced secret(s) could not be removed`);
};
