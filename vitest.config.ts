import { defineConfig } from 'vitest/config';

/**
 * The machine running the suite may be busy (CI, seven engineers on two cores), so every bound
 * here only decides how soon a broken state is reported, never whether a slow one passes: tests
 * wait for states. `expect.poll` defaults to one second, a timed assertion a loaded machine
 * fails; here it waits as long as a test may run, less a margin so the poll's own message (the
 * last value it saw) is what a failure shows.
 *
 * Files run one at a time on two cores: vitest's default `maxWorkers` is the CPU count less one
 * (vitest 4, `resolveMaxWorkers`). A heavy file (worker processes, Redis, Chromium) is therefore
 * never run beside another of ours there; the load it meets is the machine's and its own.
 */
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 50_000, interval: 50 } },
    pool: 'forks',
    globalSetup: ['./vitest.global-setup.ts'],
  },
});
