import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The example connector suites run too: they are what connector authors copy.
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // A private PostgreSQL with scram-sha-256 auth for the suites that check passwords; fails the run if it cannot start.
    globalSetup: ['test/integration/pg-cluster.setup.ts', 'test/fixtures/azure/tls.setup.ts'],
    testTimeout: 20_000,
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
