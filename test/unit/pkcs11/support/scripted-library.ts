/**
 * A scripted PKCS#11 library (Luna and CloudHSM cannot run here) behind a Pkcs11Module: one token,
 * sessions numbered from 1, one secret key (handle 42) under every CKA_ID, its attributes as an
 * AES-256 key would report them. C_Decrypt(Async) fails with `script.decryptFailure` while it is
 * set. Network HSMs run the session calls on worker threads (session-call-workers.ts): here
 * `sessionCallWorkers.call` runs the same table (INLINE_SESSION_CALLS) on these functions, except
 * that a call listed by `hang(fn, session)` does not return until `releaseHung()` (then it
 * returns what the library would have).
 */
import * as pkcs11js from 'pkcs11js';
import type { Pkcs11Module } from '../../../../lambdas/adapters/pkcs11/module';
import { INLINE_SESSION_CALLS, type SessionCallArgs, type SessionCallName, type SessionCallResult, type SessionCalls } from '../../../../lambdas/adapters/pkcs11/session-call-workers';

export const SLOT = Buffer.from([7]);
export const KEY_HANDLE = Buffer.from([42]);

/** CK_ULONG as the platform stores it (little-endian, 8 bytes on the Lambda hosts). */
function ulong(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(value));
  return bytes;
}

const ATTRIBUTE_VALUES = new Map<number, Buffer>([
  [pkcs11js.CKA_KEY_TYPE, ulong(pkcs11js.CKK_AES)],
  [pkcs11js.CKA_VALUE_LEN, ulong(32)],
  [pkcs11js.CKA_LABEL, Buffer.from('scripted key')],
  [pkcs11js.CKA_ENCRYPT, Buffer.from([1])],
  [pkcs11js.CKA_DECRYPT, Buffer.from([1])],
]);

export function scriptedLibrary() {
  let nextSession = 1;
  const script = { decryptFailure: undefined as string | undefined };
  const hangs = new Map<SessionCallName, Set<number>>();
  const hung: (() => void)[] = [];
  const failIfScripted = () => {
    if (script.decryptFailure) throw new pkcs11js.Pkcs11Error(`${script.decryptFailure}:0`);
  };
  let searchedId: Buffer = Buffer.alloc(0);
  const functions = {
    C_OpenSession: jest.fn((_slot?: Buffer, _flags?: number) => Buffer.from([nextSession++])),
    C_GetSessionInfo: jest.fn((_session: Buffer) => ({ state: 0 })),
    C_Login: jest.fn(),
    C_Logout: jest.fn(),
    C_CloseSession: jest.fn(),
    C_FindObjectsInit: jest.fn((_session: Buffer, template: pkcs11js.Template) => {
      const classEntry = template.find(({ type }) => type === pkcs11js.CKA_CLASS);
      searchedId = classEntry?.value === pkcs11js.CKO_SECRET_KEY ? (template.find(({ type }) => type === pkcs11js.CKA_ID)?.value as Buffer) : Buffer.alloc(0);
    }),
    C_FindObjects: jest.fn((_session: Buffer, _max: number) => (searchedId.length > 0 ? [KEY_HANDLE] : [])),
    C_FindObjectsFinal: jest.fn(),
    C_GetAttributeValue: jest.fn((_session: Buffer, _object: Buffer, template: pkcs11js.Template) =>
      template.map(({ type }) => ({ type, value: type === pkcs11js.CKA_ID ? searchedId : (ATTRIBUTE_VALUES.get(type) ?? Buffer.from([0])) })),
    ),
    C_DestroyObject: jest.fn(),
    C_DecryptInit: jest.fn(),
    C_Decrypt: jest.fn((_s: Buffer, data: Buffer, out: Buffer) => (failIfScripted(), out.subarray(0, data.length - 16))),
    C_DecryptAsync: jest.fn(async (_s: Buffer, data: Buffer, out: Buffer) => (failIfScripted(), out.subarray(0, data.length - 16))),
    C_EncryptInit: jest.fn(),
    // Luna's convention: ciphertext ‖ tag ‖ the IV the HSM generated (never all zeros).
    C_EncryptAsync: jest.fn(async (_s: Buffer, _data: Buffer, out: Buffer) => out.fill(5)),
    C_GenerateKeyAsync: jest.fn(async () => KEY_HANDLE),
  };
  const runScripted = <F extends SessionCallName>(fn: F, args: SessionCallArgs<F>) =>
    (INLINE_SESSION_CALLS[fn] as (pkcs11: pkcs11js.PKCS11, ...rest: SessionCallArgs<F>) => SessionCallResult<F>)(functions as unknown as pkcs11js.PKCS11, ...args);
  const sessionCallWorkers = {
    call: jest.fn(<F extends SessionCallName>(fn: F, args: SessionCallArgs<F>, _deadlineAt: number) => {
      const session = (args[0] as Buffer)[0]!;
      if (hangs.get(fn)?.has(session)) return new Promise<SessionCallResult<F>>((resolve, reject) => hung.push(() => { try { resolve(runScripted(fn, args)); } catch (error) { reject(error); } }));
      return new Promise<SessionCallResult<F>>((resolve) => resolve(runScripted(fn, args)));
    }),
  } satisfies SessionCalls;
  const module = {
    generation: 0,
    functions,
    sessionCallWorkers,
    enter: jest.fn(async () => functions),
    leave: jest.fn(),
    hold: jest.fn(() => () => undefined),
    findSlot: jest.fn(() => SLOT),
    reinitialize: jest.fn(async () => undefined),
  };
  /** Every call given to `sessionCallWorkers`, in order: the function and its session's number. */
  const workerLog = (): { fn: SessionCallName; session: number }[] => sessionCallWorkers.call.mock.calls.map(([fn, args]) => ({ fn, session: (args[0] as Buffer)[0]! }));
  /** The session calls given to `sessionCallWorkers` for `fn`: the session number of each. */
  const workerCalls = (fn: SessionCallName): number[] => workerLog().filter((entry) => entry.fn === fn).map((entry) => entry.session);
  /** From now on, `fn` on that session (a worker call) waits for `releaseHung`. */
  const hang = (fn: SessionCallName, session: number) => {
    hangs.set(fn, new Set([...(hangs.get(fn) ?? []), session]));
  };
  /** The hung calls return, as a library does when the HSM answers at last. */
  const releaseHung = () => {
    hangs.clear();
    hung.splice(0).forEach((finish) => finish());
  };
  return { functions, sessionCallWorkers, module: module as unknown as Pkcs11Module, enter: module.enter, leave: module.leave, script, hang, releaseHung, workerCalls, workerLog };
}
