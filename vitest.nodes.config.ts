import { defineConfig } from 'vitest/config';

// npm run test:nodes: the CLI scenario suite under every supported Node (test/e2e/nodes).
export default defineConfig({
  test: {
    include: ['test/e2e/nodes/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
