/**
 * How each IV convention's IV reaches the caller (each HSM type's default, and a partition that
 * sets another), and where C_Encrypt / C_Decrypt run. CloudHSM and Luna cannot run here, so a
 * scripted PKCS#11 stands in for them; SoftHSM2 is covered for real in test/integration/pkcs11.
 */
import * as pkcs11js from 'pkcs11js';
import { DEFAULT_CIPHER_CALL_MODES } from '../../../lambdas/adapters/pkcs11/config';
import { Deadline } from '../../../lambdas/adapters/pkcs11/deadline';
import { gcmDecrypt, gcmEncrypt, type GcmDevice } from '../../../lambdas/adapters/pkcs11/gcm';
import { SessionLease, type LeaseOwner } from '../../../lambdas/adapters/pkcs11/session-lease';
import { DEFAULT_GCM_IV_CONVENTION, type GcmIvConvention, type HsmType } from '../../../lambdas/contract/hsm';

const SESSION = Buffer.from([1]);
const KEY = Buffer.from([2]);
const HSM_IV = Buffer.from('0102030405060708090a0b0c', 'hex');
const RNG_IV = Buffer.from('a1a2a3a4a5a6a7a8a9aaabac', 'hex');

interface Script {
  /** What the fake HSM does with the IV buffer at C_EncryptInit. */
  writeIvBack?: boolean;
  /** Extra bytes the fake HSM appends after ciphertext ‖ tag. */
  appendIv?: boolean;
  /**
   * Like Luna 7 as AWS's reference proxy uses it: only an empty IV is accepted (the HSM makes its
   * own and appends it); a caller IV is refused with CKR_MECHANISM_PARAM_INVALID.
   */
  generatesIvOnly?: boolean;
  /** What C_GenerateRandom fills in. @default RNG_IV */
  rng?: Buffer;
}

function fakeHsm(script: Script, hsmType: HsmType = 'softhsm') {
  const seen: { mechanism?: pkcs11js.Mechanism } = {};
  const encrypt = (data: Buffer, out: Buffer): Buffer => {
    const sealed = Buffer.concat([Buffer.from(data).reverse(), Buffer.alloc(16, 0xee), script.appendIv ? HSM_IV : Buffer.alloc(0)]);
    sealed.copy(out);
    return out.subarray(0, sealed.length);
  };
  const decrypt = (data: Buffer, out: Buffer): Buffer => {
    const plain = Buffer.from(data.subarray(0, data.length - 16)).reverse();
    plain.copy(out);
    return out.subarray(0, plain.length);
  };
  const pkcs11 = {
    C_GenerateRandom: jest.fn((_session: Buffer, buffer: Buffer) => (script.rng ?? RNG_IV).copy(buffer) && buffer),
    C_EncryptInit: jest.fn((_session: Buffer, mechanism: pkcs11js.Mechanism) => {
      seen.mechanism = mechanism;
      if (script.generatesIvOnly && ((mechanism.parameter as pkcs11js.AesGCM).iv as Buffer).length !== 0) {
        throw new pkcs11js.Pkcs11Error('CKR_MECHANISM_PARAM_INVALID:0');
      }
      if (script.writeIvBack) HSM_IV.copy((mechanism.parameter as pkcs11js.AesGCM).iv as Buffer);
    }),
    C_Encrypt: jest.fn((_session: Buffer, data: Buffer, out: Buffer) => encrypt(data, out)),
    C_EncryptAsync: jest.fn(async (_session: Buffer, data: Buffer, out: Buffer) => encrypt(data, out)),
    C_DecryptInit: jest.fn((_session: Buffer, mechanism: pkcs11js.Mechanism) => {
      seen.mechanism = mechanism;
    }),
    C_Decrypt: jest.fn((_session: Buffer, data: Buffer, out: Buffer) => decrypt(data, out)),
    C_DecryptAsync: jest.fn(async (_session: Buffer, data: Buffer, out: Buffer) => decrypt(data, out)),
  };
  const lease = new SessionLease(pkcs11 as unknown as pkcs11js.PKCS11, SESSION, new Deadline(1_000), {} as LeaseOwner, hsmType);
  return { pkcs11, lease, seen };
}

/** The device as Pkcs11KeyCrypto builds it from the default config (and the partition's IV convention when it sets one). */
const deviceOf = (hsmType: HsmType, ivConvention: GcmIvConvention = DEFAULT_GCM_IV_CONVENTION[hsmType]): GcmDevice => ({
  hsmType,
  cipherCallMode: DEFAULT_CIPHER_CALL_MODES[hsmType],
  ivConvention,
});
const encrypt = (lease: SessionLease, hsmType: HsmType, ivConvention?: GcmIvConvention) =>
  gcmEncrypt(lease, deviceOf(hsmType, ivConvention), KEY, Buffer.from('plain'), Buffer.from('aad'));
const ivOf = (seen: { mechanism?: pkcs11js.Mechanism }) => (seen.mechanism?.parameter as pkcs11js.AesGCM).iv as Buffer;
const SEALED = { iv: HSM_IV, ciphertext: Buffer.from('nialp'), tag: Buffer.alloc(16, 0xee) };

describe('gcmEncrypt', () => {
  it('SoftHSM2: passes 12 bytes from the HSM RNG as IV and splits ciphertext ‖ tag', async () => {
    const { lease, pkcs11, seen } = fakeHsm({});

    const result = await encrypt(lease, 'softhsm');

    expect(pkcs11.C_GenerateRandom).toHaveBeenCalledTimes(1);
    expect(result.iv).toEqual(RNG_IV);
    expect(result.ciphertext).toEqual(Buffer.from('nialp'));
    expect(result.tag).toEqual(Buffer.alloc(16, 0xee));
    expect(seen.mechanism).toEqual({
      mechanism: pkcs11js.CKM_AES_GCM,
      parameter: { type: pkcs11js.CK_PARAMS_AES_GCM_v240, iv: RNG_IV, ivBits: 96, aad: Buffer.from('aad'), tagBits: 128 },
    });
  });

  it('CloudHSM: passes 12 zero bytes and reads the IV the HSM wrote back into that buffer', async () => {
    const { lease, pkcs11, seen } = fakeHsm({ writeIvBack: true });
    let passed: Buffer | undefined;
    pkcs11.C_EncryptInit.mockImplementationOnce((_session: Buffer, mechanism: pkcs11js.Mechanism) => {
      passed = Buffer.from((mechanism.parameter as pkcs11js.AesGCM).iv as Buffer);
      HSM_IV.copy((mechanism.parameter as pkcs11js.AesGCM).iv as Buffer);
      seen.mechanism = mechanism;
    });

    const result = await encrypt(lease, 'cloudhsm');

    expect(passed).toEqual(Buffer.alloc(12));
    expect(pkcs11.C_GenerateRandom).not.toHaveBeenCalled();
    expect(result.iv).toEqual(HSM_IV);
    expect(result.ciphertext).toEqual(Buffer.from('nialp'));
    expect(result.tag).toEqual(Buffer.alloc(16, 0xee));
  });

  it('Luna: passes an empty IV (ulIvLen 0) and takes the IV the HSM appended after the tag', async () => {
    const { lease, pkcs11, seen } = fakeHsm({ appendIv: true, generatesIvOnly: true }, 'luna');

    const result = await encrypt(lease, 'luna');

    expect(pkcs11.C_GenerateRandom).not.toHaveBeenCalled();
    expect(ivOf(seen)).toHaveLength(0);
    expect((seen.mechanism?.parameter as pkcs11js.AesGCM).ivBits).toBe(0);
    expect(result.iv).toEqual(HSM_IV);
    expect(result.ciphertext).toEqual(Buffer.from('nialp'));
    expect(result.tag).toEqual(Buffer.alloc(16, 0xee));
  });

  it('a Luna partition set to caller-hsm-rng (an HSM policy that takes the caller\'s IV): 12 bytes from the HSM RNG, no IV after the tag', async () => {
    const { lease, pkcs11, seen } = fakeHsm({}, 'luna');

    const result = await encrypt(lease, 'luna', 'caller-hsm-rng');

    expect(pkcs11.C_GenerateRandom).toHaveBeenCalledTimes(1);
    expect(ivOf(seen)).toEqual(RNG_IV);
    expect(result.iv).toEqual(RNG_IV);
    expect(pkcs11.C_EncryptAsync).toHaveBeenCalledTimes(1); // still a network HSM: on a worker thread
  });

  it('an HSM that only generates IVs refuses a partition set to a caller IV (the operator set the wrong convention)', async () => {
    const { lease } = fakeHsm({ appendIv: true, generatesIvOnly: true }, 'luna');

    await expect(encrypt(lease, 'luna', 'hsm-in-iv-buffer')).rejects.toMatchObject({ returnCode: 'CKR_MECHANISM_PARAM_INVALID' });
  });

  it('refuses an all-zero IV from the HSM RNG too', async () => {
    const { lease } = fakeHsm({ rng: Buffer.alloc(12) });

    await expect(encrypt(lease, 'softhsm')).rejects.toMatchObject({ reason: 'DEVICE_ERROR', message: expect.stringContaining('did not generate an IV') });
  });

  it('refuses a ciphertext when an HSM that should generate the IV left the zero placeholder', async () => {
    const { lease } = fakeHsm({});

    await expect(encrypt(lease, 'cloudhsm')).rejects.toMatchObject({ reason: 'DEVICE_ERROR', message: expect.stringContaining('did not generate an IV') });
  });

  it('refuses an output whose length does not fit the IV convention (Luna without the appended IV)', async () => {
    const { lease } = fakeHsm({ writeIvBack: true });

    await expect(encrypt(lease, 'luna')).rejects.toMatchObject({ reason: 'DEVICE_ERROR', message: expect.stringContaining('gcm_iv_convention') });
  });
});

describe('where C_Encrypt and C_Decrypt run', () => {
  it('Luna and CloudHSM: on a worker thread, raced against the budget (a network HSM may stall)', async () => {
    for (const hsmType of ['luna', 'cloudhsm'] as const) {
      const { lease, pkcs11 } = fakeHsm({ appendIv: hsmType === 'luna', writeIvBack: hsmType === 'cloudhsm' });

      await encrypt(lease, hsmType);
      await gcmDecrypt(lease, deviceOf(hsmType), KEY, SEALED, Buffer.from('aad'));

      expect(pkcs11.C_EncryptAsync).toHaveBeenCalledTimes(1);
      expect(pkcs11.C_DecryptAsync).toHaveBeenCalledTimes(1);
      expect(pkcs11.C_Encrypt).not.toHaveBeenCalled();
      expect(pkcs11.C_Decrypt).not.toHaveBeenCalled();
    }
  });

  it('SoftHSM2: in line on the event loop (an in-process library with nothing to wait for)', async () => {
    const { lease, pkcs11 } = fakeHsm({});

    await encrypt(lease, 'softhsm');
    const plain = await gcmDecrypt(lease, deviceOf('softhsm'), KEY, SEALED, Buffer.from('aad'));

    expect(plain).toEqual(Buffer.from('plain'));
    expect(pkcs11.C_Encrypt).toHaveBeenCalledTimes(1);
    expect(pkcs11.C_Decrypt).toHaveBeenCalledTimes(1);
    expect(pkcs11.C_EncryptAsync).not.toHaveBeenCalled();
    expect(pkcs11.C_DecryptAsync).not.toHaveBeenCalled();
  });

  it('an in-line call that outlives the budget answers TIMEOUT after it returns', async () => {
    let clock = 0;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => clock);
    try {
      const { lease, pkcs11 } = fakeHsm({});
      pkcs11.C_Decrypt.mockImplementationOnce((_session: Buffer, data: Buffer, out: Buffer) => {
        clock += 2_000; // the budget is 1,000 ms
        return out.subarray(0, data.length - 16);
      });

      await expect(gcmDecrypt(lease, deviceOf('softhsm'), KEY, SEALED, Buffer.from('aad'))).rejects.toMatchObject({
        reason: 'TIMEOUT',
        message: expect.stringContaining('C_Decrypt'),
      });
      expect(pkcs11.C_Decrypt).toHaveBeenCalledTimes(1);
    } finally {
      now.mockRestore();
    }
  });
});

describe('gcmDecrypt', () => {
  it('passes ciphertext ‖ tag with the given IV and AAD', async () => {
    const { lease, pkcs11, seen } = fakeHsm({});

    const plain = await gcmDecrypt(lease, deviceOf('luna'), KEY, SEALED, Buffer.from('aad'));

    expect(plain).toEqual(Buffer.from('plain'));
    expect(pkcs11.C_DecryptAsync.mock.calls[0][1]).toEqual(Buffer.concat([Buffer.from('nialp'), Buffer.alloc(16, 0xee)]));
    expect((seen.mechanism?.parameter as pkcs11js.AesGCM).iv).toEqual(HSM_IV);
  });

  it('refuses a tag that is not 16 bytes as DECRYPT_FAILED without calling the HSM', async () => {
    const { lease, pkcs11 } = fakeHsm({});

    await expect(gcmDecrypt(lease, deviceOf('softhsm'), KEY, { iv: HSM_IV, ciphertext: Buffer.from('x'), tag: Buffer.alloc(12) }, Buffer.alloc(0))).rejects.toMatchObject({
      reason: 'DECRYPT_FAILED',
    });
    expect(pkcs11.C_DecryptInit).not.toHaveBeenCalled();
  });
});

describe('what a failed C_Decrypt means, per HSM type', () => {
  const failure = (code: string) => new pkcs11js.Pkcs11Error(`${code}:0`);

  it.each<[HsmType, string, string]>([
    ['softhsm', 'CKR_GENERAL_ERROR', 'DECRYPT_FAILED'], // SoftHSM2's answer to a wrong tag
    ['softhsm', 'CKR_FUNCTION_FAILED', 'DECRYPT_FAILED'],
    ['softhsm', 'CKR_ENCRYPTED_DATA_INVALID', 'DECRYPT_FAILED'],
    ['luna', 'CKR_GENERAL_ERROR', 'DEVICE_ERROR'], // on a network HSM: the device failed
    ['luna', 'CKR_FUNCTION_FAILED', 'DEVICE_ERROR'],
    ['luna', 'CKR_ENCRYPTED_DATA_INVALID', 'DECRYPT_FAILED'],
    ['cloudhsm', 'CKR_GENERAL_ERROR', 'DEVICE_ERROR'],
    ['cloudhsm', 'CKR_FUNCTION_FAILED', 'DEVICE_ERROR'],
    ['cloudhsm', 'CKR_ENCRYPTED_DATA_INVALID', 'DECRYPT_FAILED'],
  ])('%s: %s → %s', async (hsmType, code, reason) => {
    // Arrange: the scripted HSM fails the decrypt with the code, in line or on the worker thread.
    const { lease, pkcs11 } = fakeHsm({}, hsmType);
    pkcs11.C_Decrypt.mockImplementation(() => {
      throw failure(code);
    });
    pkcs11.C_DecryptAsync.mockImplementation(async () => {
      throw failure(code);
    });
    // Act / Assert
    await expect(gcmDecrypt(lease, deviceOf(hsmType), KEY, SEALED, Buffer.from('aad'))).rejects.toMatchObject({ reason, returnCode: code });
  });
});

describe('SessionLease.callAsync', () => {
  it('answers TIMEOUT when the native call outlives the budget, and remembers the call still in flight', async () => {
    const lease = new SessionLease({} as pkcs11js.PKCS11, SESSION, new Deadline(5), {} as LeaseOwner, 'luna');
    let finish!: (value: Buffer) => void;

    const outcome = lease.callAsync('C_Encrypt', () => new Promise<Buffer>((resolve) => (finish = resolve)));

    await expect(outcome).rejects.toMatchObject({ reason: 'TIMEOUT' });
    expect(lease.inFlight).toBeDefined();
    finish(Buffer.alloc(0));
    await expect(lease.inFlight).resolves.toBeUndefined();
  });
});
