/**
 * Every session-call worker of a library held by a call the HSM never answers, through the HSM
 * agent: real worker threads (SessionCallWorkers), each blocked inside C_FindObjects of a pkcs11js
 * stand-in (support/blocking-pkcs11js.cjs) as a native call waiting on a dead link is. Each call
 * costs its caller its deadline; calls beyond the workers wait in the queue until their own
 * deadline and never start; the event loop keeps serving (a partition of the same library set to
 * run inline is served meanwhile); once the library returns, the workers serve again and the
 * sessions of the abandoned calls are closed (C_CloseSession on a worker too), never reused.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pkcs11Config } from '../../../lambdas/adapters/pkcs11/config';
import { Pkcs11HsmAgent } from '../../../lambdas/adapters/pkcs11/hsm-agent';
import type { Pkcs11Module } from '../../../lambdas/adapters/pkcs11/module';
import { Pkcs11Partitions } from '../../../lambdas/adapters/pkcs11/partitions';
import { SessionCallWorkers } from '../../../lambdas/adapters/pkcs11/session-call-workers';
import type { PartitionConnection } from '../../../lambdas/contract/hsm';
import { MemorySecretStore } from '../../helpers/softhsm';
import { scriptedLibrary } from './support/scripted-library';

const WORKERS = 4;
/** Room for starting the worker threads on a busy machine; the hung calls answer at it. */
const DEADLINE_MS = 1_500;

let folder: string;
let workers: SessionCallWorkers;

beforeEach(() => {
  folder = mkdtempSync(path.join(tmpdir(), 'blocking-pkcs11-'));
  workers = new SessionCallWorkers(folder, WORKERS, path.join(__dirname, 'support', 'blocking-pkcs11js.cjs'));
});

afterEach(async () => {
  rmSync(path.join(folder, 'hang'), { force: true });
  await workers.terminate();
  rmSync(folder, { recursive: true, force: true });
});

function agentOnBlockingWorkers() {
  const library = scriptedLibrary();
  const module = { ...(library.module as unknown as Record<string, unknown>), sessionCallWorkers: workers } as unknown as Pkcs11Module;
  const secrets = new MemorySecretStore();
  void secrets.put('pin', '1234');
  const config = pkcs11Config({ callTimeoutMs: DEADLINE_MS });
  const agent = new Pkcs11HsmAgent(config, secrets, new Pkcs11Partitions(config, secrets, () => module));
  const partition = (partitionId: string, overrides: Partial<PartitionConnection> = {}): PartitionConnection => ({ partitionId, hsmType: 'luna', tokenLabel: 'token', pinSecretName: 'pin', ...overrides });
  return { ...library, agent, network: partition('p-network'), local: partition('p-local', { pkcs11CallMode: 'inline' }) };
}

/** The lines the stand-in wrote to one of its files (`started`: a C_FindObjects each; `closed`: the sessions closed). */
function linesOf(file: 'started' | 'closed'): string[] {
  return existsSync(path.join(folder, file)) ? readFileSync(path.join(folder, file), 'utf8').split('\n').filter(Boolean) : [];
}

const searchesStarted = () => linesOf('started').length;

async function until(condition: () => boolean, withinMs: number): Promise<void> {
  const giveUpAt = Date.now() + withinMs;
  while (!condition() && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('all session-call workers hung in C_FindObjects', () => {
  it('each call answers TIMEOUT at its deadline, the queued one never starts, the event loop serves on, and the workers serve again once the library returns', async () => {
    // Arrange
    const { agent, network, local, functions } = agentOnBlockingWorkers();
    const closedInline = () => functions.C_CloseSession.mock.calls.length;
    const onWorkers = jest.spyOn(workers, 'call');
    writeFileSync(path.join(folder, 'hang'), '');
    let longestTimerLagMs = 0;
    let last = Date.now();
    const ticker = setInterval(() => {
      longestTimerLagMs = Math.max(longestTimerLagMs, Date.now() - last - 10);
      last = Date.now();
    }, 10);
    // Act: one call more than there are workers, on sessions of their own.
    const started = Date.now();
    const hung = Array.from({ length: WORKERS + 1 }, (_, index) => agent.describeKey({ partition: network, objectId: `0${index + 1}` }).then(
      () => ({ outcome: 'answered', afterMs: Date.now() - started }),
      (error: { reason?: string }) => ({ outcome: error.reason, afterMs: Date.now() - started }),
    ));
    await until(() => searchesStarted() >= WORKERS, DEADLINE_MS);
    const localStarted = Date.now();
    const servedMeanwhile = await agent.describeKey({ partition: local, objectId: '0a' });
    const localMs = Date.now() - localStarted;
    const outcomes = await Promise.all(hung);
    clearInterval(ticker);
    // Assert: every hung call answered TIMEOUT at its deadline, not later.
    expect(outcomes.map(({ outcome }) => outcome)).toEqual(Array(WORKERS + 1).fill('TIMEOUT'));
    for (const { afterMs } of outcomes) {
      expect(afterMs).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
      expect(afterMs).toBeLessThan(DEADLINE_MS + 500);
    }
    // Only four workers ever ran; the fifth call waited in the queue and never started.
    expect(workers.size).toBe(WORKERS);
    expect(searchesStarted()).toBe(WORKERS);
    // The event loop was never held: the inline partition was served, timers kept time.
    expect(servedMeanwhile).toMatchObject({ objectId: '0a', keyType: 'AES' });
    expect(localMs).toBeLessThan(200);
    expect(longestTimerLagMs).toBeLessThan(200);
    // Still hung: their sessions are kept out of the pool, and not closed under the running calls.
    const searchedOn = () => onWorkers.mock.calls.filter(([fn]) => fn === 'C_FindObjects').map(([, args]) => (args[0] as Buffer).toString('hex'));
    const hungSessions = searchedOn().slice(0, WORKERS);
    const closedSessions = () => linesOf('closed');
    // (A worker takes the queue's head as soon as it is free, so calls start in the order given.)
    expect(new Set(hungSessions).size).toBe(WORKERS);
    expect(closedSessions().filter((hex) => hungSessions.includes(hex))).toEqual([]);

    // Act: the library returns at last.
    rmSync(path.join(folder, 'hang'));
    await until(() => closedSessions().filter((hex) => hungSessions.includes(hex)).length >= WORKERS, 2_000);
    const served = await agent.describeKey({ partition: network, objectId: '0b' });
    // Assert: the sessions of the hung calls are closed, each once, and a fresh one serves.
    expect(closedSessions().filter((hex) => hungSessions.includes(hex)).sort()).toEqual([...hungSessions].sort());
    expect(served).toMatchObject({ keyType: 'AES' });
    expect(searchesStarted()).toBe(WORKERS + 1);
    expect(hungSessions).not.toContain(searchedOn().at(-1));
    // Every close went to a worker too (the inline partition closed nothing).
    expect(closedInline()).toBe(0);
  });
});
