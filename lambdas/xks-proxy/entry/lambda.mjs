// The XKS proxy's Lambda entry in the image (bundled by the Dockerfile's esbuild step as
// xks-proxy.mjs). An ES module, so that its top-level await holds Lambda's init phase open until
// the warm-up is done (alb-handler.ts): provisioned concurrency then starts instances that are
// ready, and the first request pays for nothing the later ones do not.
import { handler, warmUpOnLambda } from './alb-handler';

await warmUpOnLambda();

export { handler };
