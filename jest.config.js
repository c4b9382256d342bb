/**
 * One jest run covers every layer (see README, "Tests"):
 *  - test/unit, test/infra: no external process;
 *  - test/integration, test/xks, test/e2e: DynamoDB Local and SoftHSM2, started once by
 *    test/helpers/global-setup.ts and shared by every suite (each suite uses its own table / token).
 * middy and jose are ESM-only, hence the transform exception (and the mapper to middy's index.js).
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: ['/node_modules/(?!(@middy|jose)/)'],
  moduleNameMapper: { '^@middy/([^/]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
