/**
 * The local system's HSM partition: a SoftHSM2 token labelled `local-softhsm`, registered through
 * the management API itself (POST /v1/cckm/hsm/partitions), so that its PIN is kept only where the
 * API keeps PINs (the local secret store). The runner generates the PIN, hands it to softhsm2-util
 * and to the API, and forgets it; no other file ever holds it.
 *
 * A token whose partition is not registered (first start, or an earlier registration that failed)
 * has a PIN nobody knows: it is deleted and initialised again with a fresh PIN before registering.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createSoftHsmToken, SOFTHSM2_UTIL } from './softhsm-token';

const execFileAsync = promisify(execFile);

export const LOCAL_PARTITION_NAME = 'local-softhsm';
const PARTITIONS_PATH = '/v1/cckm/hsm/partitions';

export type PartitionOutcome =
  | { readonly kind: 'registered'; readonly partitionId: string }
  | { readonly kind: 'already-registered'; readonly partitionId: string }
  | { readonly kind: 'skipped'; readonly reason: string };

interface Api {
  readonly apiUrl: string;
  readonly adminToken: string;
}

/** Makes sure the `local-softhsm` token exists and is registered; never throws for API failures. */
export async function ensureLocalPartition(api: Api): Promise<PartitionOutcome> {
  const existing = await findPartition(api);
  if (existing.kind !== 'missing') return existing;

  if (await tokenExists(LOCAL_PARTITION_NAME)) {
    await execFileAsync(SOFTHSM2_UTIL, ['--delete-token', '--token', LOCAL_PARTITION_NAME], { env: process.env });
  }
  let pin: string | undefined = randomBytes(16).toString('hex');
  // The SO PIN would only serve to reset the user PIN, which the secret store already keeps.
  await createSoftHsmToken({ label: LOCAL_PARTITION_NAME, pin, soPin: randomBytes(16).toString('hex') });
  const response = await call(api, 'POST', PARTITIONS_PATH, {
    name: LOCAL_PARTITION_NAME,
    hsm_type: 'softhsm',
    token_label: LOCAL_PARTITION_NAME,
    pin,
    description: 'SoftHSM2 token of the local system (npm start)',
  });
  pin = undefined;
  if (response.status !== 201 && response.status !== 200) {
    return { kind: 'skipped', reason: `CreateHsmPartition answered ${response.status}: ${messageOf(response.body)}` };
  }
  return { kind: 'registered', partitionId: String((response.body as { id?: unknown }).id ?? '') };
}

async function findPartition(api: Api): Promise<PartitionOutcome | { readonly kind: 'missing' }> {
  const response = await call(api, 'GET', `${PARTITIONS_PATH}?name=${LOCAL_PARTITION_NAME}`);
  if (response.status !== 200) {
    return { kind: 'skipped', reason: `ListHsmPartitions answered ${response.status}: ${messageOf(response.body)}` };
  }
  const resources = (response.body as { resources?: Array<{ id?: unknown; name?: unknown }> }).resources ?? [];
  const found = resources.find((partition) => partition.name === LOCAL_PARTITION_NAME);
  return found ? { kind: 'already-registered', partitionId: String(found.id) } : { kind: 'missing' };
}

async function tokenExists(label: string): Promise<boolean> {
  const { stdout } = await execFileAsync(SOFTHSM2_UTIL, ['--show-slots'], { env: process.env });
  // Labels are padded with spaces to 32 characters.
  return stdout.split('\n').some((line) => /^\s*Label:\s+(.*?)\s*$/.exec(line)?.[1] === label);
}

async function call(api: Api, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${api.apiUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${api.adminToken}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

function messageOf(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body).slice(0, 200);
}
