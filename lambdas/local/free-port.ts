/**
 * A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it). Another process
 * may take it before the caller binds it; callers that start a server on it retry on EADDRINUSE.
 */
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not read the port the kernel assigned'));
      });
    });
  });
}
