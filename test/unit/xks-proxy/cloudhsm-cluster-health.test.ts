/**
 * Per-HSM health of a CloudHSM cluster: the members made from the PKCS#11 check of the cluster's
 * slot and DescribeClusters' HSM states (clusterMembers), the calls made to the API
 * (ClusterHsmStates: once per refresh period, bounded, never failing the check), and both seen
 * through the proxy's GetHealthStatus, with Encrypt never waiting for the API.
 */
import type { CloudHsmClusterHsms, CloudHsmHsm } from '../../../lambdas/core/ports/cloudhsm-clusters';
import { HsmError } from '../../../lambdas/core/ports/hsm';
import { XksError } from '../../../lambdas/xks-proxy/errors';
import { ClusterHsmStates } from '../../../lambdas/xks-proxy/health/cluster-hsm-states';
import { clusterMembers, type MemberHealth } from '../../../lambdas/xks-proxy/health/deep-health-check';
import { encryptBody, healthBody } from '../../xks/support/bodies';
import { operationPath, proxyFixture, STORE_ID } from '../../xks/support/proxy-fixture';

const CLUSTER_ID = 'cluster-igklspoyj5v';
const hsm = (HsmId: string, State: string): CloudHsmHsm => ({ HsmId, State });
const TWO_ACTIVE = [hsm('hsm-aaaaaaaaaaa', 'ACTIVE'), hsm('hsm-bbbbbbbbbbb', 'ACTIVE')];

/** DescribeClusters as a test drives it: each call's cluster id and signal, answered by `answer`. */
class FakeClusterHsms implements CloudHsmClusterHsms {
  readonly calls: { clusterId: string; signal?: AbortSignal }[] = [];
  answer: () => Promise<readonly CloudHsmHsm[] | undefined> = async () => TWO_ACTIVE;

  hsmsOf(clusterId: string, options: { readonly signal?: AbortSignal } = {}): Promise<readonly CloudHsmHsm[] | undefined> {
    this.calls.push({ clusterId, signal: options.signal });
    return this.answer();
  }
}

const never = () => new Promise<never>(() => undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const statuses = (members: readonly Pick<MemberHealth, 'id' | 'status'>[]) => members.map((member) => [member.id, member.status]);

describe('clusterMembers', () => {
  const passed: MemberHealth = { id: CLUSTER_ID, status: 'ACTIVE', latencyMs: 4 };

  it('gives each HSM its state: ACTIVE the check\'s status, DEGRADED DEGRADED, any other state UNAVAILABLE with the state in its error', () => {
    // Arrange
    const hsms = [hsm('hsm-a', 'ACTIVE'), hsm('hsm-b', 'DEGRADED'), hsm('hsm-c', 'CREATE_IN_PROGRESS'), hsm('hsm-d', 'DELETE_IN_PROGRESS'), { HsmId: 'hsm-e', State: 'DELETED', StateMessage: 'HSM deleted.' }];
    // Act
    const members = clusterMembers(passed, hsms);
    // Assert
    expect(statuses(members)).toEqual([['hsm-a', 'ACTIVE'], ['hsm-b', 'DEGRADED'], ['hsm-c', 'UNAVAILABLE'], ['hsm-d', 'UNAVAILABLE'], ['hsm-e', 'UNAVAILABLE']]);
    expect(members.map((member) => member.error?.message)).toEqual([undefined, undefined, expect.stringContaining('CREATE_IN_PROGRESS'), expect.stringContaining('DELETE_IN_PROGRESS'), 'AWS CloudHSM reports the HSM DELETED (HSM deleted.)']);
  });

  it('reports an ACTIVE HSM DEGRADED when the cluster\'s check passed slowly', () => {
    expect(statuses(clusterMembers({ ...passed, status: 'DEGRADED', latencyMs: 150 }, TWO_ACTIVE))).toEqual([['hsm-aaaaaaaaaaa', 'DEGRADED'], ['hsm-bbbbbbbbbbb', 'DEGRADED']]);
  });

  it('reports every HSM UNAVAILABLE, with the check\'s error, when the PKCS#11 check failed', () => {
    const error = new XksError('InternalException', 'token not found');
    const members = clusterMembers({ id: CLUSTER_ID, status: 'UNAVAILABLE', latencyMs: 2, error }, [hsm('hsm-a', 'ACTIVE'), hsm('hsm-b', 'DEGRADED')]);
    expect(statuses(members)).toEqual([['hsm-a', 'UNAVAILABLE'], ['hsm-b', 'UNAVAILABLE']]);
    expect(members.map((member) => member.error)).toEqual([error, error]);
  });

  it('reports the cluster as one member with the check\'s status when the API gave no answer, or listed no HSM that serves while the check passed', () => {
    expect(clusterMembers(passed, undefined)).toEqual([passed]);
    expect(clusterMembers(passed, [])).toEqual([passed]);
    expect(clusterMembers(passed, [hsm('hsm-a', 'DELETED')])).toEqual([passed]);
    const failed: MemberHealth = { id: CLUSTER_ID, status: 'UNAVAILABLE', latencyMs: 1, error: new XksError('InternalException', 'down') };
    expect(clusterMembers(failed, undefined)).toEqual([failed]);
  });

  it('lists at most ten HSMs, the spec\'s limit of ekmFleetDetails', () => {
    const hsms = Array.from({ length: 12 }, (_, index) => hsm(`hsm-${index}`, 'ACTIVE'));
    expect(clusterMembers(passed, hsms)).toHaveLength(10);
  });
});

describe('ClusterHsmStates', () => {
  it('calls DescribeClusters at most once per cluster and refresh period, shared by every caller, and again after the period', async () => {
    // Arrange
    let now = 1_000_000;
    const source = new FakeClusterHsms();
    const states = new ClusterHsmStates(source, { refreshAfterMs: 15_000, now: () => now });
    // Act
    const first = await Promise.all([states.hsmsOf(CLUSTER_ID), states.hsmsOf(CLUSTER_ID)]);
    now += 14_999;
    const withinPeriod = await states.hsmsOf(CLUSTER_ID);
    now += 1;
    await states.hsmsOf(CLUSTER_ID);
    // Assert
    expect(first.map((listed) => listed?.hsms)).toEqual([TWO_ACTIVE, TWO_ACTIVE]);
    expect(withinPeriod?.startedAt).toBe(1_000_000);
    expect(source.calls.map((call) => call.clusterId)).toEqual([CLUSTER_ID, CLUSTER_ID]);
  });

  it('answers no HSMs when the call fails or finds no such cluster, says so once per call, and does not call again within the period', async () => {
    // Arrange
    let now = 1_000_000;
    const source = new FakeClusterHsms();
    const failures: string[] = [];
    const states = new ClusterHsmStates(source, { refreshAfterMs: 15_000, now: () => now, onLookupFailed: (clusterId, error) => failures.push(`${clusterId}: ${error.message}`) });
    source.answer = async () => {
      throw new Error('AccessDeniedException: not authorized');
    };
    // Act
    const failed = [await states.hsmsOf(CLUSTER_ID), await states.hsmsOf(CLUSTER_ID)];
    now += 15_000;
    source.answer = async () => undefined;
    const missing = await states.hsmsOf(CLUSTER_ID);
    // Assert
    expect([...failed, missing]).toEqual([undefined, undefined, undefined]);
    expect(source.calls).toHaveLength(2);
    expect(failures).toEqual([`${CLUSTER_ID}: AccessDeniedException: not authorized`, `${CLUSTER_ID}: AWS CloudHSM DescribeClusters lists no cluster ${CLUSTER_ID} in the proxy's account and region`]);
  });

  it('waits at most waitMs for a slow call, and serves its answer, once it came, to the next period\'s refresh while the newer call is slow too', async () => {
    // Arrange
    let now = 1_000_000;
    const source = new FakeClusterHsms();
    source.answer = async () => {
      await sleep(60);
      return TWO_ACTIVE;
    };
    const states = new ClusterHsmStates(source, { refreshAfterMs: 15_000, waitMs: 10, now: () => now });
    // Act
    const started = Date.now();
    const first = await states.hsmsOf(CLUSTER_ID);
    const waited = Date.now() - started;
    await sleep(100);
    now += 15_000;
    const second = await states.hsmsOf(CLUSTER_ID);
    await sleep(100);
    source.answer = never;
    now += 15_000;
    const third = await states.hsmsOf(CLUSTER_ID);
    now += 15_000;
    const fourth = await states.hsmsOf(CLUSTER_ID);
    // Assert
    expect(first).toBeUndefined();
    expect(waited).toBeLessThan(50);
    // The first call's answer came after the first refresh gave up waiting.
    expect(second).toEqual({ hsms: TWO_ACTIVE, startedAt: 1_000_000 });
    // The second call's (started at +15 s) while the third hangs; two periods after it started, none.
    expect(third).toEqual({ hsms: TWO_ACTIVE, startedAt: 1_015_000 });
    expect(fourth).toBeUndefined();
    expect(source.calls).toHaveLength(4);
  });

  it('aborts a call that does not answer within timeoutMs and reports it failed', async () => {
    // Arrange
    const source = new FakeClusterHsms();
    source.answer = never;
    const failures: Error[] = [];
    const states = new ClusterHsmStates(source, { refreshAfterMs: 15_000, waitMs: 5, timeoutMs: 30, onLookupFailed: (_id, error) => failures.push(error) });
    // Act
    expect(await states.hsmsOf(CLUSTER_ID)).toBeUndefined();
    await sleep(80);
    // Assert
    expect(source.calls[0]?.signal?.aborted).toBe(true);
    expect(failures.map((error) => error.message)).toEqual([`AWS CloudHSM DescribeClusters of ${CLUSTER_ID} did not answer within 30 ms`]);
  });
});

describe('GetHealthStatus of a store on a CloudHSM cluster', () => {
  function clusterFixture(source: FakeClusterHsms, now?: () => number) {
    const failures: string[] = [];
    const fixture = proxyFixture({ now, health: { cloudHsm: { clusters: source, onLookupFailed: (clusterId, error) => failures.push(`${clusterId}: ${error.message}`) } } });
    fixture.state.updateKeyStore(STORE_ID, { cloudHsmClusterId: CLUSTER_ID });
    return { ...fixture, failures };
  }
  const fleetOf = async (fixture: ReturnType<typeof clusterFixture>): Promise<string[][]> =>
    (await fixture.call(operationPath('health'), healthBody())).json.ekmFleetDetails.map((entry: { id: string; healthStatus: string }) => [entry.id, entry.healthStatus]);

  it('lists one entry per HSM of the cluster, by HSM id, each with its state', async () => {
    const source = new FakeClusterHsms();
    source.answer = async () => [hsm('hsm-aaaaaaaaaaa', 'ACTIVE'), hsm('hsm-bbbbbbbbbbb', 'DEGRADED')];
    const fixture = clusterFixture(source);
    expect(await fleetOf(fixture)).toEqual([['hsm-aaaaaaaaaaa', 'ACTIVE'], ['hsm-bbbbbbbbbbb', 'DEGRADED']]);
    expect(source.calls.map((call) => call.clusterId)).toEqual([CLUSTER_ID]);
  });

  it('lists every HSM UNAVAILABLE, and logs each, when the cluster\'s PKCS#11 check fails', async () => {
    const fixture = clusterFixture(new FakeClusterHsms());
    fixture.keyCrypto.failure = new HsmError('TOKEN_NOT_FOUND', undefined, 'no token');
    expect(await fleetOf(fixture)).toEqual([['hsm-aaaaaaaaaaa', 'UNAVAILABLE'], ['hsm-bbbbbbbbbbb', 'UNAVAILABLE']]);
    expect(fixture.logger.lines.filter((line) => line.message === 'deep health check failed').map((line) => line.attributes.member)).toEqual(['hsm-aaaaaaaaaaa', 'hsm-bbbbbbbbbbb']);
  });

  it('keeps a serving cluster ACTIVE, as one entry, when DescribeClusters fails, and says why', async () => {
    const source = new FakeClusterHsms();
    source.answer = async () => {
      throw new Error('ThrottlingException: Rate exceeded');
    };
    const fixture = clusterFixture(source);
    expect(await fleetOf(fixture)).toEqual([[CLUSTER_ID, 'ACTIVE']]);
    expect(fixture.failures).toEqual([`${CLUSTER_ID}: ThrottlingException: Rate exceeded`]);
  });

  it('answers within the request deadline, the cluster ACTIVE as one entry, while DescribeClusters hangs', async () => {
    const source = new FakeClusterHsms();
    source.answer = never;
    const fixture = clusterFixture(source);
    const started = Date.now();
    expect(await fleetOf(fixture)).toEqual([[CLUSTER_ID, 'ACTIVE']]);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('never calls DescribeClusters for an Encrypt, and an Encrypt that starts a refresh does not wait for it', async () => {
    // Arrange: a fresh result from the warm-up, then a DescribeClusters that never answers.
    let now = Date.now();
    const source = new FakeClusterHsms();
    const fixture = clusterFixture(source, () => now);
    await fixture.proxy.warmUp();
    source.answer = never;
    const callsAfterWarmUp = source.calls.length;
    // A second on: the init rehearsal's reads of unknown store ids are paid back (state-cache.ts), the result still fresh.
    now += 1_000;
    // Act
    const fresh = await fixture.call(operationPath('encrypt'), encryptBody(Buffer.from('fresh')), { signingDate: new Date(now) });
    const callsWhileFresh = source.calls.length;
    now += 19_000;
    const started = Date.now();
    const stale = await fixture.call(operationPath('encrypt'), encryptBody(Buffer.from('stale')), { signingDate: new Date(now) });
    const staleMs = Date.now() - started;
    // Assert
    expect([fresh.status, stale.status]).toEqual([200, 200]);
    expect(callsAfterWarmUp).toBe(1);
    expect(callsWhileFresh).toBe(1);
    expect(staleMs).toBeLessThan(100);
  });
});
