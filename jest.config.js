/** Jest: unit tests beside the code, integration tests on real NATS/Postgres/Redis, e2e tests on real processes. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const common = {
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@herald/(contracts|config|observability|messaging|agents|markdown-chunker|db|auth|client)$': '<rootDir>/libs/$1/src',
    // test/support for the unit tests beside the code, which may not import outside their project by path.
    '^@herald/test-support/(.*)$': '<rootDir>/test/support/$1',
  },
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  // Per-project testTimeout is ignored by Jest 30: one global bound, generous for real processes.
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{libs,apps}/*/src/**/*.spec.ts', '<rootDir>/test/unit/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e.ts'] },
    // Infrastructure restarts on servers the tests start themselves: slow, so only `npm run test:chaos` runs them.
    ...(process.env.HERALD_TEST_CHAOS === '1'
      ? [{ ...common, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.chaos.ts'] }]
      : []),
    // The web client in a real browser (playwright-core driving Debian's /usr/bin/chromium) against real processes.
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.e2e.ts'] },
  ],
};
