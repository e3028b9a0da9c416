import { defineConfig } from 'vitest/config';

// Integration and e2e tests create network namespaces and start real daemons: run files one or two at a
// time (the machine has 2 cores) and give them room; unit tests are fast either way.
// The long, opt-in runs (a full Debian install, real OpenStack stages) are named by path with
// RACKLIFT_OPT_IN=1 (npm run test:e2e:install, npm run test:bootstrap-real).
const optIn = process.env.RACKLIFT_OPT_IN === '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: optIn ? ['node_modules/**'] : ['test/e2e/install.test.ts', 'test/bootstrap-real/**', 'node_modules/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
