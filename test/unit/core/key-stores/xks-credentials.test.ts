/**
 * XKS credential generation: the formats AWS KMS accepts, randomness, the proxy configuration file,
 * and the secret going to the SecretStore only.
 */
import {
  ACCESS_KEY_ID_PATTERN,
  generateXksCredential,
  issueXksCredential,
  proxyConfigurationFile,
  SECRET_ACCESS_KEY_PATTERN,
} from '../../../../lambdas/core/key-stores/xks-credentials';
import { secretNames } from '../../../../lambdas/core/secret-names';
import { MemorySecretStore } from '../../../helpers/softhsm';

describe('generateXksCredential', () => {
  it('makes access key ids of 20-30 characters of [A-Z2-7] and secrets of 43-64 characters of [A-Za-z0-9+/=]', () => {
    for (let i = 0; i < 200; i += 1) {
      const { accessKeyId, secretAccessKey } = generateXksCredential();
      expect(accessKeyId).toMatch(ACCESS_KEY_ID_PATTERN);
      expect(secretAccessKey).toMatch(SECRET_ACCESS_KEY_PATTERN);
    }
  });

  it('encodes the random bytes it is given (base32 for the id, base64 for the secret)', () => {
    // Arrange: all-zero and all-one bytes give the first and last alphabet characters.
    const zeros = generateXksCredential((size) => Buffer.alloc(size, 0));
    const ones = generateXksCredential((size) => Buffer.alloc(size, 0xff));

    // Assert
    expect(zeros.accessKeyId).toBe('A'.repeat(24));
    expect(ones.accessKeyId).toBe('7'.repeat(24));
    expect(zeros.secretAccessKey).toBe('A'.repeat(44));
    expect(ones.secretAccessKey).toBe('/'.repeat(44));
  });

  it('never repeats itself', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => generateXksCredential().accessKeyId));
    expect(ids.size).toBe(1000);
  });
});

describe('proxyConfigurationFile', () => {
  it('has the fields the AWS KMS console reads', () => {
    const file = proxyConfigurationFile('/api/v1/cckm/aws/xks-proxy-endpoints/abc/kms/xks/v1', { accessKeyId: 'AKID', secretAccessKey: 'SECRET' });

    expect(JSON.parse(JSON.stringify(file))).toEqual({
      XksProxyUriPath: '/api/v1/cckm/aws/xks-proxy-endpoints/abc/kms/xks/v1',
      XksProxyAuthenticationCredential: { AccessKeyId: 'AKID', RawSecretAccessKey: 'SECRET' },
    });
  });
});

describe('issueXksCredential', () => {
  it('stores the secret under the credential secret name and returns it once, with metadata that does not contain it', async () => {
    // Arrange
    const secrets = new MemorySecretStore();

    // Act
    const issued = await issueXksCredential(secrets, { keyStoreId: 'ks', credentialId: 'cred', version: 3, now: '2026-01-01T00:00:00.000Z', uriPath: '/p/kms/xks/v1' });

    // Assert
    expect(await secrets.get(secretNames.xksCredential('ks', 'cred'))).toBe(issued.response.secret_access_key);
    expect(issued.credential).toEqual({ id: 'cred', accessKeyId: issued.response.access_key_id, version: 3, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' });
    expect(JSON.stringify(issued.credential)).not.toContain(issued.response.secret_access_key);
    expect(issued.response.xks_proxy_configuration.XksProxyAuthenticationCredential.RawSecretAccessKey).toBe(issued.response.secret_access_key);
  });
});
