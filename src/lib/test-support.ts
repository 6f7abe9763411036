import type { TestContext } from 'node:test';

/** For tests that need root: true as root; skips when BERTH_TEST_NO_ROOT=1; otherwise fails loudly. */
export function requireRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  if (process.env['BERTH_TEST_NO_ROOT'] === '1') { t.skip('needs root'); return false; }
  throw new Error('this test needs root (set BERTH_TEST_NO_ROOT=1 to skip)');
}

/** Registers cleanups that run last-in first-out (node:test runs t.after hooks in registration order). */
export function deferrer(t: TestContext): (fn: () => Promise<unknown>) => void {
  const stack: (() => Promise<unknown>)[] = [];
  t.after(async () => { for (const fn of stack.reverse()) await fn(); });
  return (fn) => stack.push(fn);
}
