/**
 * pkcs11js for the adapter's modules: `import * as pkcs11js from './pkcs11js'`, never from
 * 'pkcs11js' itself. pkcs11js is CommonJS (`module.exports = { ...native, PKCS11 }`), and Node
 * gives an ES module that imports it only the names it can read statically: in the proxy image's
 * ES module bundles (lambdas/xks-proxy/Dockerfile), `import * as` from 'pkcs11js' would see
 * `PKCS11` but not one CKF_/CKA_/CKM_ constant (all undefined, so C_OpenSession would be asked
 * for flags 0). Through this module esbuild loads it with `require`, whole; test/bundles runs it.
 */
import pkcs11js = require('pkcs11js');

export = pkcs11js;
