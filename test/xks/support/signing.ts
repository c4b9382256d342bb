/**
 * Two independent SigV4 signers for XKS requests: @smithy/signature-v4 (what AWS SDKs use) and
 * `curl --aws-sigv4` (what the spec's Appendix D uses). `captureCurlRequest` runs curl against a
 * plain local listener and returns exactly what curl sent, as an XksRequest, so unit tests can
 * feed curl's signature to the verifier without TLS.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { XksRequest } from '../../../lambdas/xks-proxy/http';

export interface XksSigningCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface SmithySignInput {
  readonly credential: XksSigningCredential;
  readonly region: string;
  /** `host[:port]` as the Host header will carry it. */
  readonly host: string;
  readonly path: string;
  readonly body: string | Buffer;
  readonly method?: string;
  readonly signingDate?: Date;
  /** Sign `x-amz-content-sha256` too (smithy's default). @default true */
  readonly applyChecksum?: boolean;
  readonly service?: string;
  readonly extraHeaders?: Record<string, string>;
}

/** The headers to send: host, content-type, x-amz-date, (x-amz-content-sha256,) authorization. */
export async function signWithSmithy(input: SmithySignInput): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: input.service ?? 'kms-xks-proxy',
    region: input.region,
    credentials: { accessKeyId: input.credential.accessKeyId, secretAccessKey: input.credential.secretAccessKey },
    sha256: Sha256,
    applyChecksum: input.applyChecksum ?? true,
  });
  const [hostname, port] = input.host.split(':');
  const signed = await signer.sign(
    {
      method: input.method ?? 'POST',
      protocol: 'https:',
      hostname,
      port: port ? Number(port) : undefined,
      path: input.path,
      query: {},
      headers: { host: input.host, 'content-type': 'application/json', ...input.extraHeaders },
      body: input.body,
    },
    { signingDate: input.signingDate },
  );
  return signed.headers as Record<string, string>;
}

export interface CurlResult {
  readonly status: number;
  readonly body: string;
}

/** curl's argument list for a SigV4-signed XKS POST (Appendix D). */
export function curlSigV4Args(options: {
  readonly url: string;
  readonly region: string;
  readonly credential: XksSigningCredential;
  readonly bodyFile?: string;
  readonly body?: string;
  readonly caCertPath?: string;
  readonly method?: string;
}): string[] {
  const args = [
    '-sS',
    '--aws-sigv4', `aws:amz:${options.region}:kms-xks-proxy`,
    '--user', `${options.credential.accessKeyId}:${options.credential.secretAccessKey}`,
    '-X', options.method ?? 'POST',
    '-H', 'Content-Type: application/json',
    '-w', '\n%{http_code}',
  ];
  if (options.caCertPath) args.push('--cacert', options.caCertPath);
  if (options.bodyFile) args.push('--data-binary', `@${options.bodyFile}`);
  else if (options.body !== undefined) args.push('--data-binary', options.body);
  args.push(options.url);
  return args;
}

export function runCurl(args: readonly string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile('curl', args, { maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`curl failed: ${stderr || error.message}`));
        return;
      }
      const newline = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(newline + 1)), body: stdout.slice(0, newline) });
    });
  });
}

function toXksRequest(message: IncomingMessage, rawBody: Buffer): XksRequest {
  const url = message.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: message.method ?? 'GET',
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? undefined : url.slice(q + 1),
    headers: message.headersDistinct as Record<string, string[]>,
    rawBody,
  };
}

/**
 * Runs `curl --aws-sigv4` against a throw-away HTTP listener on 127.0.0.1 and returns the request
 * it received. `path` is appended to `http://127.0.0.1:<port>`.
 */
export async function captureCurlRequest(options: {
  readonly path: string;
  readonly body: string;
  readonly region: string;
  readonly credential: XksSigningCredential;
}): Promise<{ request: XksRequest; host: string }> {
  let captured: XksRequest | undefined;
  const server = createServer((message, response) => {
    const chunks: Buffer[] = [];
    message.on('data', (chunk: Buffer) => chunks.push(chunk));
    message.on('end', () => {
      captured = toXksRequest(message, Buffer.concat(chunks));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await runCurl(curlSigV4Args({ url: `http://${host}${options.path}`, region: options.region, credential: options.credential, body: options.body }));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (!captured) throw new Error('curl sent no request');
  return { request: captured, host };
}
