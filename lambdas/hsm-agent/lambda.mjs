// The HSM agent's Lambda entry in the image (bundled by the Dockerfile's esbuild step as
// hsm-agent.mjs). An ES module, so that its top-level await holds Lambda's init phase open until
// PKCS#11 is loaded and initialised (handler.ts).
import { handler, warmUpOnLambda } from './handler';

await warmUpOnLambda();

export { handler };
