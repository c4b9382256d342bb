import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadOrCreateSigningKey, LocalTokenVerifier } from '../../../lambdas/local/adapters/local-tokens';
import { runTokenCli } from '../../../lambdas/local/token-cli';

const run = promisify(execFile);
const REPOSITORY_ROOT = join(__dirname, '..', '..', '..');

describe('npm run token', () => {
  let stateDir: string;

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'token-cli-'));
  });

  afterEach(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('prints only a token that the local verifier accepts as the named user in cckm-users', async () => {
    // Arrange
    loadOrCreateSigningKey(stateDir);

    // Act
    const { stdout } = await run('npm', ['run', '-s', 'token', '--', '--state-dir', stateDir, '--user', 'alice'], { cwd: REPOSITORY_ROOT, timeout: 60_000 });

    // Assert
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const principal = await LocalTokenVerifier.fromStateDir(stateDir).verify(stdout.trim());
    expect(principal).toMatchObject({ username: 'alice', groups: ['cckm-users'], isAdmin: false });
  }, 60_000);

  it('issues an admin token with --group cckm-admins', async () => {
    // Arrange
    loadOrCreateSigningKey(stateDir);
    let out = '';

    // Act
    const code = await runTokenCli(['--state-dir', stateDir, '--user', 'ops', '--group', 'cckm-admins'], (t) => (out += t), () => undefined);

    // Assert
    expect(code).toBe(0);
    expect(await LocalTokenVerifier.fromStateDir(stateDir).verify(out.trim())).toMatchObject({ username: 'ops', isAdmin: true });
  });

  it.each([
    [['--state-dir', 'X'], '--user NAME is required'],
    [['--state-dir', 'X', '--user', 'bob', '--group', 'root'], '--group must be one of cckm-admins, cckm-users'],
    [['--state-dir', 'X', '--user', 'two words'], '--user must be'],
    [['--state-dir', 'X', '--user', 'bob', '--admin'], "Unknown option '--admin'"],
  ])('refuses %j on stderr with exit code 2 and prints nothing on stdout', async (args, message) => {
    // Arrange
    let out = '';
    let err = '';

    // Act
    const code = await runTokenCli(args.map((a) => (a === 'X' ? stateDir : a)), (t) => (out += t), (t) => (err += t));

    // Assert
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain(message);
  });

  it('refuses a state folder without the local key instead of signing with a new one', async () => {
    // Arrange
    let err = '';

    // Act
    const code = await runTokenCli(['--state-dir', stateDir, '--user', 'alice'], () => undefined, (t) => (err += t));

    // Assert
    expect(code).toBe(2);
    expect(err).toContain('start the local system first');
  });
});
