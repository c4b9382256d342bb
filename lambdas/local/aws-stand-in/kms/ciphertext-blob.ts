/**
 * The stand-in's ciphertext blob (its own format; AWS's is undocumented): it names the key, so
 * Decrypt and ReEncrypt need no KeyId, and carries the parts the key's origin produced.
 *
 *   "LSK" | version 0x01 | u8 key-id length | key id (ASCII) | u8 part count | (u16 length | part bytes)*
 *
 * The header (everything before the parts) is authenticated by the origins as part of their AAD.
 */
import { AwsError } from '../aws-error';

const MAGIC = Buffer.from('LSK', 'ascii');
const VERSION = 1;

export interface DecodedBlob {
  readonly keyId: string;
  readonly header: Buffer;
  readonly parts: Buffer[];
}

export function blobHeader(keyId: string): Buffer {
  const id = Buffer.from(keyId, 'ascii');
  return Buffer.concat([MAGIC, Buffer.from([VERSION, id.length]), id]);
}

export function encodeBlob(keyId: string, parts: readonly Buffer[]): Buffer {
  const chunks: Buffer[] = [blobHeader(keyId), Buffer.from([parts.length])];
  for (const part of parts) {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(part.length);
    chunks.push(length, part);
  }
  return Buffer.concat(chunks);
}

const invalidCiphertext = (): AwsError => new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');

export function decodeBlob(blob: Buffer): DecodedBlob {
  if (blob.length < MAGIC.length + 3 || !blob.subarray(0, MAGIC.length).equals(MAGIC) || blob[MAGIC.length] !== VERSION) throw invalidCiphertext();
  const idLength = blob[MAGIC.length + 1];
  let offset = MAGIC.length + 2 + idLength;
  if (blob.length < offset + 1) throw invalidCiphertext();
  const keyId = blob.subarray(MAGIC.length + 2, offset).toString('ascii');
  const header = blob.subarray(0, offset);
  const count = blob[offset];
  offset += 1;
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i += 1) {
    if (blob.length < offset + 2) throw invalidCiphertext();
    const length = blob.readUInt16BE(offset);
    offset += 2;
    if (blob.length < offset + length) throw invalidCiphertext();
    parts.push(blob.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== blob.length) throw invalidCiphertext();
  return { keyId, header, parts };
}
