/** Small helpers for the long-running children the runner and the tests start (DynamoDB Local, the runner). */
import type { ChildProcess } from 'node:child_process';

/**
 * Keeps draining the child's stdout and stderr (a full pipe would block it) and returns a reader of
 * the last `maxChars` characters, for error messages.
 */
export function collectOutput(child: ChildProcess, maxChars: number): () => string {
  // Chunks are kept as they come and trimmed only past twice the limit: a child that logs every
  // request (the XKS proxy under bench:xks) must not cost a copy of the whole tail per chunk.
  let chunks: string[] = [];
  let length = 0;
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString();
    chunks.push(text);
    length += text.length;
    if (length > 2 * maxChars) {
      const kept = chunks.join('').slice(-maxChars);
      chunks = [kept];
      length = kept.length;
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return () => chunks.join('').slice(-maxChars);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStopped) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolveStopped();
    });
    child.kill('SIGTERM');
  });
}
