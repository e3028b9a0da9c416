import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The real bootstrap proof: opt-in (`npm run test:bootstrap-real`), root, Debian's mirror, tens of minutes.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/bootstrap-real/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 4 * 3600_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
});
