import { BatchedLogger } from '../../../lambdas/xks-proxy/observability/batched-logger';

/** What the logger writes to stdout and stderr while `act` runs (and until `until` resolves). */
async function captured(act: (writes: { stream: string; text: string }[]) => Promise<void> | void): Promise<{ stream: string; text: string }[]> {
  const writes: { stream: string; text: string }[] = [];
  const restore = (['stdout', 'stderr'] as const).map((name) => {
    const stream = process[name];
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array) => {
      writes.push({ stream: name, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') });
      return true;
    }) as typeof stream.write;
    return () => {
      stream.write = original;
    };
  });
  try {
    await act(writes);
  } finally {
    for (const undo of restore) undo();
  }
  return writes;
}

describe('BatchedLogger', () => {
  it('writes the info lines of one event-loop turn in one write, as the JSON lines Powertools writes', async () => {
    const logger = new BatchedLogger({ serviceName: 'xks-proxy' });
    const writes = await captured(async (seen) => {
      logger.info('xks-request', { kmsRequestId: 'a', latencyMs: 1 });
      logger.info('xks-request', { kmsRequestId: 'b', latencyMs: 2 });
      expect(seen).toHaveLength(0); // queued until the turn ends
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(writes).toHaveLength(1);
    expect(writes[0].stream).toBe('stdout');
    const lines = writes[0].text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'xks-request', service: 'xks-proxy', kmsRequestId: 'a', latencyMs: 1, timestamp: expect.any(String) }),
      expect.objectContaining({ level: 'INFO', message: 'xks-request', service: 'xks-proxy', kmsRequestId: 'b', latencyMs: 2 }),
    ]);
  });

  it('writes queued lines at once on flush, and before a warning or error, which go out at once', async () => {
    const logger = new BatchedLogger({ serviceName: 'xks-proxy' });
    const writes = await captured(() => {
      logger.info('xks-request', { kmsRequestId: 'a' });
      logger.warn('xks-request', { kmsRequestId: 'b' });
      logger.info('xks-request', { kmsRequestId: 'c' });
      logger.flush();
    });
    expect(writes.map((write) => [write.stream, JSON.parse(write.text.trim()).kmsRequestId])).toEqual([
      ['stdout', 'a'],
      ['stderr', 'b'],
      ['stdout', 'c'],
    ]);
  });
});
