import { defineConfig } from 'vitest/config';

// Three projects, named after the kind of test (STYLE habit 9): unit tests use fakes and
// run in parallel; integration tests start real servers on free ports; end-to-end tests
// start whole processes and a real browser, one file at a time. The projects run one after
// another (sequence.groupOrder: lowest group first, vitest 4): without it all three run at
// once, and on a 2-core machine the e2e processes starve beside the others' workers.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
