/**
 * What every bench script shares: a stand-in for node:test's TestContext, so the test helpers that
 * lay out GPT-Load databases (test/support) work outside the runner, and one way to run the
 * script's main that reports a failure by exit code and always drops what was laid out.
 */
import type { TestContext } from 'node:test';

const cleanups: Array<() => unknown> = [];

export const benchContext = {
  after: (fn: () => unknown) => cleanups.push(fn),
  skip: (why: string) => console.log(`skipped: ${why}`),
} as unknown as TestContext;

export function runBench(main: () => Promise<void>): void {
  main()
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(async () => {
      for (const fn of cleanups.reverse()) await fn();
    });
}
