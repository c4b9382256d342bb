/**
 * The load generator of `npm run bench:xks`: SigV4-signed XKS requests serialised once into the
 * bytes of an HTTP/1.1 request, sent over a fixed set of keep-alive TLS connections (as a KMS
 * host keeps a bounded pool: a request waits for a free connection rather than opening one).
 *
 * It is deliberately smaller than node:https's client (no header objects, no parser per response,
 * no agent bookkeeping): the client shares the machine's cores with the proxy, and every
 * microsecond it spends is one the proxy cannot. Responses are read by their Content-Length,
 * which the proxy always sends.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';

/** SHA-256 for the signer from node:crypto (the JS implementation would slow the client down). */
class NodeSha256 {
  private hash;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret as Buffer);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : Buffer.from(data as Uint8Array));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** One signed request as the bytes that go on the wire. */
export interface SignedRequest {
  readonly path: string;
  readonly bytes: Buffer;
}

export interface XksAnswer {
  readonly status: number;
  readonly body: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection with at most one request in flight. */
class Connection {
  private socket?: TLSSocket;
  private pending?: { resolve: (answer: XksAnswer) => void; reject: (error: Error) => void };
  private buffer: Buffer = Buffer.alloc(0);
  private expected?: { readonly status: number; readonly bodyStart: number; readonly length: number };

  constructor(
    private readonly port: number,
    private readonly ca: Buffer,
  ) {}

  /** Opens the TLS connection (done before a measurement, so that handshakes are not timed). */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: this.port, ca: this.ca }, () => resolve());
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (error) => this.socket === socket && this.fail(error, reject));
      socket.on('close', () => this.socket === socket && this.fail(new Error('connection closed'), reject));
      this.socket = socket;
    });
  }

  send(bytes: Buffer): Promise<XksAnswer> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      const write = (socket: TLSSocket) => socket.write(bytes);
      if (this.socket && !this.socket.destroyed) write(this.socket);
      else this.open().then(() => write(this.socket as TLSSocket), reject);
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (!this.expected) {
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) return;
      const head = this.buffer.toString('latin1', 0, end);
      const status = Number(head.slice(9, 12));
      const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!lengthMatch) {
        this.fail(new Error(`response without Content-Length: ${head.slice(0, 200)}`));
        this.socket?.destroy();
        return;
      }
      this.expected = { status, bodyStart: end + HEADER_END.length, length: Number(lengthMatch[1]) };
    }
    const { status, bodyStart, length } = this.expected;
    if (this.buffer.length < bodyStart + length) return;
    const body = this.buffer.toString('utf8', bodyStart, bodyStart + length);
    this.buffer = Buffer.alloc(0);
    this.expected = undefined;
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve({ status, body });
  }

  private fail(error: Error, reject?: (error: Error) => void): void {
    this.buffer = Buffer.alloc(0);
    this.expected = undefined;
    this.socket = undefined;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
    reject?.(error);
  }
}

export class XksLoadClient {
  private readonly signer: SignatureV4;
  private readonly idle: Connection[] = [];
  private readonly queue: { readonly bytes: Buffer; readonly resolve: (answer: XksAnswer) => void; readonly reject: (error: Error) => void }[] = [];
  private readonly all: Connection[] = [];
  readonly host: string;
  private readonly port: number;

  constructor(
    url: string,
    private readonly ca: Buffer,
    credential: { readonly accessKeyId: string; readonly secretAccessKey: string },
    region: string,
    connections: number,
  ) {
    const parsed = new URL(url);
    this.host = parsed.host;
    this.port = Number(parsed.port);
    this.signer = new SignatureV4({ service: 'kms-xks-proxy', region, credentials: credential, sha256: NodeSha256, applyChecksum: false });
    for (let i = 0; i < connections; i += 1) {
      const connection = new Connection(this.port, this.ca);
      this.all.push(connection);
      this.idle.push(connection);
    }
  }

  /** Opens every connection. */
  async open(): Promise<void> {
    await Promise.all(this.all.map((connection) => connection.open()));
  }

  async sign(path: string, body: unknown): Promise<SignedRequest> {
    const raw = Buffer.from(JSON.stringify(body));
    const signed = await this.signer.sign({
      method: 'POST', protocol: 'https:', hostname: this.host.split(':')[0], port: this.port, path, query: {},
      headers: { host: this.host, 'content-type': 'application/json' }, body: raw,
    });
    const headers = { ...(signed.headers as Record<string, string>), 'content-length': String(raw.length) };
    const head = `POST ${path} HTTP/1.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
    return { path, bytes: Buffer.concat([Buffer.from(head, 'latin1'), raw]) };
  }

  /** Sends on a free connection, or waits for one. */
  send(request: SignedRequest): Promise<XksAnswer> {
    const connection = this.idle.pop();
    if (connection) return this.sendOn(connection, request.bytes);
    return new Promise((resolve, reject) => this.queue.push({ bytes: request.bytes, resolve, reject }));
  }

  close(): void {
    for (const connection of this.all) connection.close();
  }

  private sendOn(connection: Connection, bytes: Buffer): Promise<XksAnswer> {
    const answer = connection.send(bytes);
    const next = () => {
      const waiting = this.queue.shift();
      if (waiting) this.sendOn(connection, waiting.bytes).then(waiting.resolve, waiting.reject);
      else this.idle.push(connection);
    };
    answer.then(next, next);
    return answer;
  }
}
