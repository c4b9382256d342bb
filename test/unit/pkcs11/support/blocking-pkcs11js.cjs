/**
 * A stand-in for pkcs11js, loaded by the session-call workers (SessionCallWorkers' `pkcs11jsPath`)
 * in place of the real one: its calls run synchronously on the worker thread, and C_FindObjects
 * blocks that thread (Atomics.wait, as a native call waiting on a dead HSM link does) for as long
 * as the file `hang` exists in the folder given to `load` as the library path; each C_FindObjects
 * that starts adds a line to the file `started` there, each C_CloseSession the session (hex) to
 * the file `closed`. Plain CommonJS:
 * worker threads load it without jest's transform.
 */
const fs = require('node:fs');
const path = require('node:path');
const { threadId } = require('node:worker_threads');

const pause = new Int32Array(new SharedArrayBuffer(4));
let nextSession = 0;

class PKCS11 {
  load(libraryPath) {
    this.folder = libraryPath;
  }
  C_Initialize() {}
  C_OpenSession() {
    nextSession += 1;
    return Buffer.from([threadId, nextSession]);
  }
  C_CloseSession(session) {
    fs.appendFileSync(path.join(this.folder, 'closed'), `${session.toString('hex')}\n`);
  }
  C_GetSessionInfo() {
    return { state: 3 };
  }
  C_Login() {}
  C_FindObjectsInit() {}
  C_FindObjects() {
    fs.appendFileSync(path.join(this.folder, 'started'), 'C_FindObjects\n');
    while (fs.existsSync(path.join(this.folder, 'hang'))) Atomics.wait(pause, 0, 0, 5);
    return [Buffer.from([42])];
  }
  C_FindObjectsFinal() {}
  /** An AES-256 key: CKA_KEY_TYPE CKK_AES, CKA_VALUE_LEN 32 (CK_ULONGs), every other attribute one zero byte. */
  C_GetAttributeValue(_session, _object, template) {
    const ulong = (value) => {
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64LE(BigInt(value));
      return bytes;
    };
    const values = { 0x100: ulong(0x1f), 0x161: ulong(32) };
    return template.map(({ type }) => ({ type, value: values[type] ?? Buffer.from([0]) }));
  }
}

module.exports = { PKCS11, CKF_OS_LOCKING_OK: 2 };
