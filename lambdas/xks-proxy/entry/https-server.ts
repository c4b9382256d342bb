/**
 * The local front door: the XKS proxy over HTTPS (node:https, HTTP/1.1 with keep-alive, TLS 1.2+),
 * started by bin/local.ts and by the conformance suite. It translates each request to an
 * XksRequest and answers with the core's XksResponse; the same core serves the ALB Lambda.
 *
 * mTLS: with `clientCaPath` the server asks every client for a certificate and verifies it against
 * that CA. A client that presents a certificate the CA did not issue is disconnected right after the
 * handshake (the spec: terminate the handshake for a certificate chained to another CA); a client
 * without a certificate is served, and the stores that enable mTLS refuse its requests.
 */
import { readFileSync } from 'node:fs';
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { XksRequest, XksResponse } from '../http';
import { MAX_BODY_BYTES } from '../operations/request-fields';
import { XksProxy, type XksProxyDeps, type XksProxyOptions } from '../xks-proxy';

/**
 * The ports the proxy runs on (as for the Lambda: an XksStateSource over the control plane's
 * state, a KeyCrypto over PKCS#11, the SecretStore holding the XKS secret access keys, a logger and
 * optional metrics), plus optional proxy options (state staleness, health cache, fleet size).
 */
export interface XksServerDeps extends XksProxyDeps {
  readonly proxyOptions?: XksProxyOptions;
}

export interface XksHttpsServerOptions {
  readonly host: string;
  /** 0 picks a free port; the returned `url` has the real one. */
  readonly port: number;
  /** PEM private key and certificate of the server. */
  readonly keyPath: string;
  readonly certPath: string;
  /** PEM CA that issues the client certificates accepted for mTLS; without it no certificate is asked for. */
  readonly clientCaPath?: string;
  readonly deps: XksServerDeps;
  /** Run the proxy's warm-up (XksProxy.warmUp, as the Lambda init does) before listening. @default false */
  readonly warmUp?: boolean;
}

export interface XksHttpsServer {
  /** `https://<host>:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/** How long an idle keep-alive connection stays open (AWS KMS and load balancers reuse connections). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

function readBody(message: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    message.on('data', (chunk: Buffer) => {
      // Past the limit the rest is drained, not kept: the core rejects the body by its size.
      if (size > MAX_BODY_BYTES) return;
      size += chunk.length;
      chunks.push(chunk);
    });
    message.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    message.on('error', reject);
  });
}

function toXksRequest(message: IncomingMessage, rawBody: Buffer, requireClientCertificate: boolean): XksRequest {
  const target = message.url ?? '/';
  const queryAt = target.indexOf('?');
  const socket = message.socket as TLSSocket;
  const verified = requireClientCertificate && socket.authorized === true;
  const subjectCn = verified ? socket.getPeerCertificate().subject?.CN : undefined;
  return {
    method: message.method ?? 'GET',
    path: queryAt < 0 ? target : target.slice(0, queryAt),
    query: queryAt < 0 ? undefined : target.slice(queryAt + 1),
    headers: message.headersDistinct,
    rawBody,
    clientCertificateVerified: verified,
    clientCertificateSubjectCn: typeof subjectCn === 'string' ? subjectCn : undefined,
  };
}

/** The answer's headers as writeHead's flat [name, value, …] list (no header object to copy and walk). */
function headerList(answer: XksResponse): string[] {
  const list: string[] = [];
  for (const name in answer.headers) list.push(name, answer.headers[name]);
  list.push('content-length', String(Buffer.byteLength(answer.body)));
  return list;
}

/** Requests `pingItself` sends: enough for V8 to give the server's request path its feedback and first compiled tiers. */
const SELF_PINGS = 20;

/**
 * `GET /ping`, then POSTs with a body of an XKS request's size (answered 405 by the ping route:
 * no log line, metric or state read), to the server itself over one keep-alive TLS connection,
 * after the warm-up: the HTTP and TLS server code, the body's reading included, then runs before
 * the first client's request (see XksProxy.warmUp's rehearsal for the proxy's own path). Best
 * effort: a certificate that does not name the host only skips it.
 */
async function pingItself(host: string, port: number, cert: Buffer): Promise<void> {
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: cert });
  const body = Buffer.alloc(600, 'x');
  const once = (method: 'GET' | 'POST') =>
    new Promise<boolean>((resolve) => {
      const request = httpsRequest({ host: target, port, path: '/ping', method, agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(true));
        response.on('error', () => resolve(false));
      });
      request.on('error', () => resolve(false));
      request.end(method === 'POST' ? body : undefined);
    });
  try {
    if (!(await once('GET'))) return;
    for (let i = 0; i < SELF_PINGS; i += 1) if (!(await once('POST'))) return;
  } finally {
    agent.destroy();
  }
}

export async function startXksHttpsServer(options: XksHttpsServerOptions): Promise<XksHttpsServer> {
  const { proxyOptions, ...deps } = options.deps;
  const proxy = new XksProxy(deps, proxyOptions);
  if (options.warmUp) {
    const warm = await proxy.warmUp();
    // The init line the Lambda entry writes too (it also runs the logger's own code once before a request does).
    deps.logger.info('xks-proxy initialized', { keyStores: warm.keyStores, keys: warm.keys, failures: warm.failures.length });
  }
  const mtls = options.clientCaPath !== undefined;
  const server: Server = createServer(
    {
      key: readFileSync(options.keyPath),
      cert: readFileSync(options.certPath),
      minVersion: 'TLSv1.2',
      ...(mtls ? { ca: readFileSync(options.clientCaPath as string), requestCert: true, rejectUnauthorized: false } : {}),
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    },
    (message: IncomingMessage, response: ServerResponse) => {
      readBody(message)
        .then((rawBody) => proxy.handle(toXksRequest(message, rawBody, mtls)))
        .then((answer) => {
          response.writeHead(answer.status, headerList(answer));
          response.end(answer.body);
        })
        .catch(() => {
          // The core answers every failure itself; this is a broken connection.
          if (!response.headersSent) response.writeHead(500).end();
          else response.destroy();
        });
    },
  );
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  if (mtls) {
    server.on('secureConnection', (socket: TLSSocket) => {
      // A certificate was presented but does not chain to the configured CA: end the connection.
      const presented = Object.keys(socket.getPeerCertificate()).length > 0;
      if (presented && !socket.authorized) socket.destroy();
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  if (options.warmUp) await pingItself(options.host, port, readFileSync(options.certPath));
  return {
    url: `https://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
