/**
 * The proxy's Powertools logger, writing its info lines in batches and formatting the per-request
 * line cheaply. Every XKS request writes one line, so its cost counts on every request:
 *
 * - Batches: a write to stdout is a system call that also wakes whoever reads the pipe (the Lambda
 *   log shipper, the local runner's parent); bench:xks --request-log-cost measured the line at
 *   about 0.19 ms of proxy CPU per request when each line was written on its own. Info lines are
 *   queued and written together `maxDelayMs` after the first of them (or as soon as `maxBytes`
 *   are queued), and at once on `flush()`, which the Lambda handler calls before it returns, so no
 *   line waits past its invocation. (Flushing at the end of each event-loop turn was not enough:
 *   at 1,800 requests/s most turns carry one request, so each line was still its own write.)
 *   Warnings and errors are written at once, after the lines queued before them, as Powertools
 *   writes them (stderr); the lines still queued when the process exits are written (flushOnExit).
 * - Formatting: Powertools builds each line anew (level name lookup, environment reads for the
 *   X-Ray trace id and the time zone, attribute merges, a JSON.stringify with a replacer function).
 *   An info line whose attributes are one flat object of strings, numbers and booleans (the request
 *   line) is written here instead from the part Powertools formats, kept until what it depends on
 *   changes (the Lambda context with its trace id, the keys, the log level): the same JSON, key for key
 *   (test/unit/xks-proxy/batched-logger.test.ts compares the two).
 */
import { Logger, LogLevelThreshold, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';

type FlatValue = string | number | boolean | undefined | null;

/** When queued info lines are written. */
export interface LineBatching {
  /** The longest an info line waits in the queue. @default 100 */
  readonly maxDelayMs?: number;
  /** Queued characters that make a write at once. @default 32_768 */
  readonly maxBytes?: number;
  /** Where info lines go. @default process.stdout (scripts/bench-alb.ts passes a sink) */
  readonly output?: { write(text: string): unknown };
}

/** The output of `discardingLines()`' logger: every line, warnings and errors too, goes nowhere. */
const DISCARDED = { write: (_text: string): void => undefined };

/** The keys Powertools writes before the context part, which the line writes itself. */
const LINE_HEAD_KEYS = ['level', 'message', 'timestamp'] as const;

type LoggerContext = Parameters<Logger['addContext']>[0];
type LogKeys = Parameters<Logger['appendKeys']>[0];

/** What the lines formatted here depend on, taken from Powertools when it may have changed. */
interface LineContext {
  /** The keys after `timestamp` as Powertools formats them (`,"service":…`, empty when none). */
  readonly json: string;
  /** Every key Powertools writes itself: an attribute with one of these names goes through Powertools. */
  readonly ownKeys: ReadonlySet<string>;
  /** Whether the log level lets info lines through. */
  readonly printsInfo: boolean;
}

export class BatchedLogger extends Logger {
  private queued: string[] = [];
  private queuedBytes = 0;
  private flushTimer?: NodeJS.Timeout;
  private readonly maxDelayMs: number;
  private readonly maxBytes: number;
  private readonly output: { write(text: string): unknown };
  /** Whether lines may be formatted here: no option that changes Powertools' output, a UTC clock. */
  private readonly plainFormat: boolean;
  private lineContext?: LineContext;
  private lastTimestamp = { ms: Number.NaN, text: '' };

  constructor(
    private readonly constructorOptions: ConstructorOptions = {},
    batching: LineBatching = {},
  ) {
    super(constructorOptions);
    this.maxDelayMs = batching.maxDelayMs ?? 100;
    this.maxBytes = batching.maxBytes ?? 32_768;
    this.output = batching.output ?? process.stdout;
    const timeZone = process.env.TZ;
    const custom = constructorOptions as Record<string, unknown>;
    this.plainFormat =
      !custom.logFormatter && !custom.logRecordOrder && !custom.logBufferOptions && !custom.jsonReplacerFn && (!timeZone || timeZone.includes('UTC'));
  }

  /**
   * A logger configured as this one whose lines, warnings and errors included, go nowhere: the
   * proxy's init rehearsal (rehearsal.ts) formats its lines with it, so that the line's code has
   * run before the first request's.
   */
  discardingLines(): BatchedLogger {
    return new BatchedLogger(this.constructorOptions, { output: DISCARDED });
  }

  /** Writes the queued lines now. */
  flush(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.queued.length === 0) return;
    const text = `${this.queued.join('\n')}\n`;
    this.queued = [];
    this.queuedBytes = 0;
    this.output.write(text);
  }

  override info(input: LogItemMessage, ...extraInput: LogItemExtraInput): void {
    const attributes = extraInput.length === 1 ? extraInput[0] : undefined;
    if (this.plainFormat && typeof input === 'string' && isFlatRecord(attributes)) {
      const context = this.currentLineContext();
      if (!context.printsInfo) return;
      if (!hasAnyKey(attributes, context.ownKeys)) {
        this.queue(this.line(input, attributes, context.json));
        return;
      }
    }
    super.info(input, ...extraInput);
  }

  override addContext(context: LoggerContext): void {
    super.addContext(context);
    this.lineContext = undefined;
  }

  override appendKeys(attributes: LogKeys): void {
    super.appendKeys(attributes);
    this.lineContext = undefined;
  }

  override appendPersistentKeys(attributes: LogKeys): void {
    super.appendPersistentKeys(attributes);
    this.lineContext = undefined;
  }

  override removeKeys(keys: string[]): void {
    super.removeKeys(keys);
    this.lineContext = undefined;
  }

  override removePersistentKeys(keys: string[]): void {
    super.removePersistentKeys(keys);
    this.lineContext = undefined;
  }

  override resetKeys(): void {
    super.resetKeys();
    this.lineContext = undefined;
  }

  override setLogLevel(logLevel: Parameters<Logger['setLogLevel']>[0]): void {
    super.setLogLevel(logLevel);
    this.lineContext = undefined;
  }

  override refreshSampleRateCalculation(): void {
    super.refreshSampleRateCalculation();
    this.lineContext = undefined;
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    if (logLevel > LogLevelThreshold.INFO) {
      this.flush();
      if (this.output === DISCARDED) return;
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    this.queue(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }

  private queue(line: string): void {
    this.queued.push(line);
    this.queuedBytes += line.length + 1;
    if (this.queuedBytes >= this.maxBytes) this.flush();
    else if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => this.flush(), this.maxDelayMs);
      // The lines of an exiting process are written by flushOnExit, not kept alive by this timer.
      this.flushTimer.unref();
    }
  }

  /**
   * The line context, kept until one of the methods above resets it. Powertools reads the X-Ray
   * trace id from the environment on every line; on Lambda it changes only between invocations,
   * and the handler adds each invocation's context (alb-handler.ts), which resets this.
   */
  private currentLineContext(): LineContext {
    if (this.lineContext !== undefined) return this.lineContext;
    const item = this.createAndPopulateLogItem(LogLevelThreshold.INFO, '', []);
    item.prepareForPrint();
    const attributes = { ...item.getAttributes() };
    for (const key of LINE_HEAD_KEYS) delete attributes[key];
    const json = JSON.stringify(attributes, this.getJsonReplacer());
    // Every base key Powertools may write, present or not (an attribute of that name is reserved).
    const ownKeys = new Set<string>([...LINE_HEAD_KEYS, ...Object.keys(attributes), ...POWERTOOLS_BASE_KEYS]);
    const printsInfo = LogLevelThreshold[this.getLevelName()] <= LogLevelThreshold.INFO;
    this.lineContext = { json: json === '{}' ? '' : `,${json.slice(1, -1)}`, ownKeys, printsInfo };
    return this.lineContext;
  }

  /** Powertools' JSON for info(message, attributes): head keys, the context part, then the attributes without empty values. */
  private line(message: string, attributes: Readonly<Record<string, FlatValue>>, contextJson: string): string {
    let line = `{"level":"INFO","message":${JSON.stringify(message)},"timestamp":"${this.timestamp()}"${contextJson}`;
    for (const key in attributes) {
      const value = attributes[key];
      // Powertools drops undefined, null and '' values (LogItem.removeEmptyKeys).
      if (value === undefined || value === null || value === '') continue;
      line += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
    }
    return `${line}}`;
  }

  /** `new Date().toISOString()`, computed once per millisecond. */
  private timestamp(): string {
    const ms = Date.now();
    if (ms !== this.lastTimestamp.ms) this.lastTimestamp = { ms, text: new Date(ms).toISOString() };
    return this.lastTimestamp.text;
  }
}

/** The keys of PowertoolsLogFormatter's base attributes. */
const POWERTOOLS_BASE_KEYS = [
  'service', 'cold_start', 'function_arn', 'function_memory_size', 'function_name', 'function_request_id', 'sampling_rate', 'xray_trace_id', 'tenant_id',
];

function hasAnyKey(record: object, keys: ReadonlySet<string>): boolean {
  for (const key in record) if (keys.has(key)) return true;
  return false;
}

/** A plain object whose values are all strings, numbers, booleans, null or undefined. */
function isFlatRecord(value: unknown): value is Readonly<Record<string, FlatValue>> {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    const type = typeof item;
    if (item !== null && item !== undefined && type !== 'string' && type !== 'number' && type !== 'boolean') return false;
    if (type === 'number' && !Number.isFinite(item)) return false;
  }
  return true;
}

/** Loggers whose queued lines are written when the process exits (process.exit skips pending timers). */
const exitFlushed = new Set<BatchedLogger>();
let exitHookInstalled = false;

export function flushOnExit(logger: BatchedLogger): void {
  exitFlushed.add(logger);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const each of exitFlushed) each.flush();
  });
}
