/** Local mode's daily sweep: runs at start, then on its interval, never two at once, and stops cleanly. */
import type { HsmAgent } from '../../../lambdas/core/ports/hsm';
import { ORPHAN_GRACE_MS } from '../../../lambdas/core/secrets/orphan-secret-sweep';
import { secretNames } from '../../../lambdas/core/secret-names';
import { startDailySweep } from '../../../lambdas/local/daily-sweep-timer';
import { MemoryStateStore } from '../../helpers/memory-state-store';
import { MemorySecretStore } from '../../helpers/softhsm';

it('removes an old unreferenced secret at start and logs its name, and stops', async () => {
  // Arrange
  const secrets = new MemorySecretStore();
  const orphan = secretNames.hsmPin('gone');
  await secrets.put(orphan, 'pin-value');
  secrets.createdAt.set(orphan, new Date(Date.now() - ORPHAN_GRACE_MS - 1));
  const lines: string[] = [];
  const ports = { state: new MemoryStateStore(), secrets, hsmAgent: {} as HsmAgent, clock: { now: () => new Date() } };

  // Act
  const running = startDailySweep(ports, (line) => lines.push(line), 60_000);
  await running.stop();

  // Assert
  expect(secrets.values.has(orphan)).toBe(false);
  expect(lines.join('\n')).toContain(orphan);
  expect(lines.join('\n')).not.toContain('pin-value');
});
