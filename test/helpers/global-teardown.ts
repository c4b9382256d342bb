/** jest globalTeardown: stops what global-setup.ts started and removes its temp folder. */
import { rmSync } from 'node:fs';
import { takeTestRun } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const run = takeTestRun();
  if (!run) return;
  await run.dynamoDb?.stop();
  rmSync(run.tempDir, { recursive: true, force: true });
}
