/**
 * Environment for processes that talk to local stand-ins of AWS (DynamoDB Local) and must never
 * reach for real credentials or a real endpoint: jest's globalSetup and bin/local.ts apply it.
 */

/** Region the local system and the tests pretend to be in. */
export const LOCAL_REGION = 'us-east-1';

export const LOCAL_AWS_ENV: Readonly<Record<string, string>> = {
  // Dummy static credentials: the SDK takes them from the environment first, so it never reads
  // ~/.aws or asks an instance metadata service.
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_REGION: LOCAL_REGION,
  AWS_DEFAULT_REGION: LOCAL_REGION,
  // The metadata service lives at a link-local address: not a place this machine may send traffic to.
  AWS_EC2_METADATA_DISABLED: 'true',
  // Every SDK client without its own endpoint goes here (nothing listens) instead of to AWS, unless
  // a service's own AWS_ENDPOINT_URL_<SERVICE> points it at a local stand-in.
  AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
  // The SDK warns on every process start under Node 20 (the local toolchain); Lambda runs Node 22.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** Writes LOCAL_AWS_ENV into `env` and drops variables that would point the SDK elsewhere. */
export function applyLocalAwsEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN']) {
    delete env[name];
  }
  Object.assign(env, LOCAL_AWS_ENV);
}
