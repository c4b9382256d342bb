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
  it('writes the info lines queued within maxDelayMs in one write, as the JSON lines Powertools writes', async () => {
    const logger = new BatchedLogger({ serviceName: 'xks-proxy' }, { maxDelayMs: 30 });
    const writes = await captured(async (seen) => {
      logger.info('xks-request', { kmsRequestId: 'a', latencyMs: 1 });
      await new Promise((resolve) => setImmediate(resolve));
      logger.info('xks-request', { kmsRequestId: 'b', latencyMs: 2 });
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(seen).toHaveLength(0); // queued across event-loop turns until maxDelayMs
      await new Promise((resolve) => setTimeout(resolve, 60));
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

  it('writes at once when maxBytes are queued', async () => {
    // Each line is about 220 characters: the third brings the queue past 600.
    const logger = new BatchedLogger({ serviceName: 'xks-proxy' }, { maxDelayMs: 60_000, maxBytes: 600 });
    const writes = await captured((seen) => {
      for (let i = 0; i < 5; i += 1) logger.info('xks-request', { kmsRequestId: `request-${i}`, padding: 'x'.repeat(60) });
      expect(seen).toHaveLength(1);
      logger.flush();
    });
    const ids = (text: string) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line).kmsRequestId);
    expect(writes.map((write) => ids(write.text))).toEqual([['request-0', 'request-1', 'request-2'], ['request-3', 'request-4']]);
    expect(writes[0].text.length).toBeGreaterThanOrEqual(600);
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

  it('discardingLines(): a logger configured as this one whose lines, warnings and errors included, go nowhere', async () => {
    const logger = new BatchedLogger({ serviceName: 'xks-proxy' });
    const twin = logger.discardingLines();
    const writes = await captured(() => {
      twin.info('xks-request', { kmsRequestId: 'a', latencyMs: 1 });
      twin.info('not flat', { nested: { kmsRequestId: 'b' } });
      twin.warn('xks-request', { kmsRequestId: 'c' });
      twin.error('xks-request', { kmsRequestId: 'd' });
      twin.flush();
      logger.info('xks-request', { kmsRequestId: 'e' });
      logger.flush();
    });
    expect(writes.map((write) => [write.stream, JSON.parse(write.text.trim()).kmsRequestId])).toEqual([['stdout', 'e']]);
  });

  describe('the request line, formatted without Powertools per line', () => {
    const lambdaContext = {
      functionName: 'xks-proxy', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:xks-proxy',
      memoryLimitInMB: '1024', awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678', logGroupName: 'g', logStreamName: 's',
      callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 1000, done: () => undefined, fail: () => undefined, succeed: () => undefined,
    };
    const attributes = {
      operation: 'Encrypt', keyStoreId: 'ks-1', externalKeyId: 'key-"quoted"\\ é \u2028', kmsRequestId: '', accessKeyId: undefined,
      result: 'Success', latencyMs: 0.42, status: 200, audit: true, none: null,
    };

    /** The same call through the fast path and through Powertools' own (an object message): the lines, timestamps aside. */
    async function bothWays(logger: BatchedLogger): Promise<[string, string]> {
      const writes = await captured(() => {
        logger.info('xks-request', attributes);
        logger.info({ message: 'xks-request', ...attributes });
        logger.flush();
      });
      const lines = writes.map((write) => write.text).join('').split('\n').filter(Boolean);
      expect(lines).toHaveLength(2);
      const withoutTime = (line: string) => line.replace(/"timestamp":"[^"]+"/, '"timestamp":"T"');
      return [withoutTime(lines[0]), withoutTime(lines[1])];
    }

    it('is the JSON Powertools writes, key for key, without and with a Lambda context, keys and an X-Ray trace', async () => {
      const logger = new BatchedLogger({ serviceName: 'xks-proxy' });
      const [fast, powertools] = await bothWays(logger);
      expect(fast).toBe(powertools);
      expect(JSON.parse(fast)).toEqual({ level: 'INFO', message: 'xks-request', timestamp: 'T', service: 'xks-proxy', sampling_rate: 0, operation: 'Encrypt', keyStoreId: 'ks-1', externalKeyId: attributes.externalKeyId, result: 'Success', latencyMs: 0.42, status: 200, audit: true });

      logger.addContext(lambdaContext);
      logger.appendKeys({ region: 'us-east-1' });
      const previousTrace = process.env._X_AMZN_TRACE_ID;
      process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
      try {
        const [fastInLambda, powertoolsInLambda] = await bothWays(logger);
        expect(fastInLambda).toBe(powertoolsInLambda);
        expect(JSON.parse(fastInLambda)).toMatchObject({ function_request_id: lambdaContext.awsRequestId, xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793', region: 'us-east-1' });
        // The next invocation: another request id and trace.
        logger.addContext({ ...lambdaContext, awsRequestId: 'second-invocation' });
        process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-000000000000000000000002;Sampled=0';
        const [fastNext, powertoolsNext] = await bothWays(logger);
        expect(fastNext).toBe(powertoolsNext);
        expect(JSON.parse(fastNext)).toMatchObject({ function_request_id: 'second-invocation', cold_start: false, xray_trace_id: '1-5759e988-000000000000000000000002' });
      } finally {
        if (previousTrace === undefined) delete process.env._X_AMZN_TRACE_ID;
        else process.env._X_AMZN_TRACE_ID = previousTrace;
      }
    });

    it('follows the log level, and leaves attributes that are not flat or that use a key of its own to Powertools', async () => {
      const logger = new BatchedLogger({ serviceName: 'xks-proxy' });
      logger.setLogLevel('WARN');
      expect(await captured(() => {
        logger.info('xks-request', { result: 'Success' });
        logger.flush();
      })).toEqual([]);
      logger.setLogLevel('INFO');
      const writes = await captured(() => {
        logger.info('nested', { cause: { name: 'E' } });
        logger.info('reserved', { service: 'other' });
        logger.flush();
      });
      const lines = (stream: string) => writes.filter((write) => write.stream === stream).map((write) => write.text).join('').split('\n').filter(Boolean).map((line) => JSON.parse(line));
      expect(lines('stdout')).toEqual([
        expect.objectContaining({ message: 'nested', cause: { name: 'E' } }),
        expect.objectContaining({ message: 'reserved', service: 'xks-proxy' }),
      ]);
      // Powertools' own warning for a reserved key: the line went through Powertools.
      expect(lines('stderr')).toEqual([expect.objectContaining({ level: 'WARN', message: expect.stringContaining('"service" is a reserved key') })]);
    });
  });
});
