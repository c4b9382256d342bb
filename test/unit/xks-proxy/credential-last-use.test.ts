import { healthBody } from '../../xks/support/bodies';
import { operationPath, proxyFixture, SECOND_CREDENTIAL, STORE_ID } from '../../xks/support/proxy-fixture';
import { MemoryCredentialUsage } from '../../helpers/memory-credential-usage';

describe('XksProxy credential last use', () => {
  it('records which credential authenticated a request, not one that failed, at most once a minute', async () => {
    // Arrange
    const credentialUsage = new MemoryCredentialUsage();
    const recordUse = jest.spyOn(credentialUsage, 'recordUse');
    let now = Date.now();
    const fixture = proxyFixture({ now: () => now }, { credentialUsage });

    // Act
    const unsigned = await fixture.call(operationPath('health'), healthBody(), { unsigned: true });
    const first = await fixture.call(operationPath('health'), healthBody(), { credential: SECOND_CREDENTIAL, signingDate: new Date(now) });
    await fixture.call(operationPath('health'), healthBody(), { credential: SECOND_CREDENTIAL, signingDate: new Date(now) });
    now += 61_000;
    await fixture.call(operationPath('health'), healthBody(), { credential: SECOND_CREDENTIAL, signingDate: new Date(now) });
    await new Promise((resolve) => setImmediate(resolve));

    // Assert
    expect(unsigned.status).toBe(401);
    expect(first.status).toBe(200);
    expect(recordUse.mock.calls.map(([store, credential]) => [store, credential])).toEqual([
      [STORE_ID, 'cred-2'],
      [STORE_ID, 'cred-2'],
    ]);
    expect((await credentialUsage.lastUses(STORE_ID)).get('cred-2')).toEqual(new Date(now));
  });

  it('answers the request when recording fails', async () => {
    // Arrange
    const credentialUsage = new MemoryCredentialUsage();
    jest.spyOn(credentialUsage, 'recordUse').mockRejectedValue(new Error('ProvisionedThroughputExceededException'));
    const fixture = proxyFixture({}, { credentialUsage });

    // Act
    const response = await fixture.call(operationPath('health'), healthBody());
    await new Promise((resolve) => setImmediate(resolve));

    // Assert
    expect(response.status).toBe(200);
    expect(fixture.logger.lines.some((line) => line.message === 'credential last-use not recorded')).toBe(true);
  });
});
