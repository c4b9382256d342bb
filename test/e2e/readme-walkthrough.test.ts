/**
 * The README's curl walkthrough, run exactly as written (the first bash block under
 * "## Walkthrough (curl)") against a local system started like `npm start`, so that the README
 * cannot drift from what the system does.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type LocalSystem, startLocalSystem } from '../helpers/local-system';

const run = promisify(execFile);

function walkthroughScript(): string {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.split('\n## Walkthrough (curl)\n')[1];
  const block = section?.match(/```bash\n([\s\S]*?)\n```/);
  if (!block) throw new Error('README.md has no bash block under "## Walkthrough (curl)"');
  return block[1];
}

let system: LocalSystem;

beforeAll(async () => {
  system = await startLocalSystem();
});

afterAll(async () => {
  await system?.stop();
});

it('runs the README walkthrough as written: account → keys → store → HYOK key → XKS calls → rotation → block → a user\'s 200 and 403 → linked store and linked HYOK key through AWS KMS', async () => {
  // Arrange
  const script = walkthroughScript();

  // Act
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
    env: { ...process.env, STATE_DIR: system.stateDir },
    cwd: join(__dirname, '..', '..'),
    timeout: 180_000,
  });

  // Assert: each step printed what the README promises.
  expect(stdout).toContain('"status": "AVAILABLE"');
  expect(stdout).toMatch(/"XksProxyUriPath": "\/api\/v1\/cckm\/aws\/xks-proxy-endpoints\/[0-9a-f-]+\/kms\/xks\/v1"/);
  expect(stdout).toContain('"healthStatus": "ACTIVE"');
  expect(stdout).toContain('"keySpec": "AES_256"');
  expect(stdout).toContain('"ciphertextDataIntegrityValue"');
  expect(stdout).toContain('\nhello world\n');
  expect(stdout).toContain('"credential_count": 2');
  expect(stdout).toContain('"errorName": "InvalidStateException"');
  expect(stdout).toContain('[{"user_id":"alice","actions":["viewkeystore"]}]');
  expect(stdout).toContain('alice reads the store: 200\n');
  expect(stdout).toMatch(/"code":403,"codeDesc":"NCERRForbidden: [^"]*","message":"[^"]*"\} \(403\)\n/);
  expect(stdout).toMatch(/\{"id":"[0-9a-f-]+","custom_key_store_id":"cks-[0-9a-f]{17}","connection_state":"DISCONNECTED"\}\n/);
  expect(stdout).toMatch(/AWS KMS: cks-[0-9a-f]{17} is CONNECTED\n/);
  expect(stdout).toContain('\nhello from AWS KMS\n');
  expect(stdout).toContain('{"linked_state":true,"KeyState":"Enabled","Origin":"EXTERNAL_KEY_STORE","Alias":["alias/demo-hyok"]}\n');
  expect(stdout).toContain('through alias/demo-hyok: hello from AWS KMS\n');
  expect(stdout).toContain('AWS KMS signs with the new credential: true\n');
  expect(stdout).toContain('{"key_material_origin":"cckm","local_key_name":"demo-byok-rsa","KeyState":"Enabled","Origin":"EXTERNAL","KeySpec":"RSA_2048"}\n');
  expect(stdout).toContain("AWS KMS's public key is the HSM key's\n");
  expect(stdout).toMatch(/\n(DISCONNECTING|DISCONNECTED)\n$/);
}, 240_000);
