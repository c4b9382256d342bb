import {
  DEFAULT_CIPHER_CALL_MODES,
  DEFAULT_PKCS11_LIBRARIES,
  PROXY_CALL_TIMEOUT_MS,
  pkcs11Config,
  pkcs11CallModeOverrides,
  pkcs11LibraryOverrides,
} from '../../../lambdas/adapters/pkcs11/config';
import { ENV } from '../../../lambdas/contract/env';

describe('PKCS#11 config', () => {
  it('uses the vendor library paths and the proxy budget by default', () => {
    const config = pkcs11Config();

    expect(config.libraries).toEqual(DEFAULT_PKCS11_LIBRARIES);
    expect(config.libraries.softhsm).toBe('/usr/lib/softhsm/libsofthsm2.so');
    expect(config.callTimeoutMs).toBe(PROXY_CALL_TIMEOUT_MS);
    expect(config.cipherCallModes).toEqual({ softhsm: 'inline', luna: 'worker-thread', cloudhsm: 'worker-thread' });
    expect(config.sessionCallModes).toEqual({ softhsm: 'inline', luna: 'worker-thread', cloudhsm: 'worker-thread' });
  });

  it('takes call modes per HSM type from the environment, and names the variable for a bad entry', () => {
    expect(pkcs11CallModeOverrides({ [ENV.pkcs11CallModes]: ' softhsm=worker-thread , luna=inline' })).toEqual({ softhsm: 'worker-thread', luna: 'inline' });
    expect(pkcs11CallModeOverrides({})).toEqual({});
    for (const bad of ['softhsm', 'thales=inline', 'softhsm=threads']) {
      expect(() => pkcs11CallModeOverrides({ [ENV.pkcs11CallModes]: bad })).toThrow(new RegExp(`^${ENV.pkcs11CallModes}: `));
    }
  });

  it('lets a test drive one HSM type on another thread, keeping the others', () => {
    const config = pkcs11Config({ cipherCallModes: { softhsm: 'worker-thread' } });

    expect(config.cipherCallModes).toEqual({ ...DEFAULT_CIPHER_CALL_MODES, softhsm: 'worker-thread' });
  });

  it('takes library paths from the environment names in contract/env, ignoring blank ones', () => {
    const overrides = pkcs11LibraryOverrides({
      [ENV.pkcs11LibraryLuna]: '/opt/luna/libCryptoki2.so',
      [ENV.pkcs11LibraryCloudhsm]: '  ',
    });

    const config = pkcs11Config({ libraries: overrides, callTimeoutMs: 50 });

    expect(config.libraries).toEqual({ ...DEFAULT_PKCS11_LIBRARIES, luna: '/opt/luna/libCryptoki2.so' });
    expect(config.callTimeoutMs).toBe(50);
  });
});
