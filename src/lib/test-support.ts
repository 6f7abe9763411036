import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

/** A TCP port on 127.0.0.1 that was free a moment ago (for servers a test or benchmark starts). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Host objects a test makes, by name: interfaces starting with a prefix, nft tables, directories (mounts under them). */
export interface TestObjects { linkPrefixes?: string[]; tables?: string[]; dirs?: string[] }

/**
 * Names what a test is about to make on the host, so that scripts/run-tests.mjs can check after
 * the whole run that none of it remains (its own check, beside the test's). A no-op outside that
 * script (BERTH_TEST_LEDGER unset).
 */
export function recordTestObjects(objects: TestObjects): void {
  const ledger = process.env['BERTH_TEST_LEDGER'];
  if (ledger) appendFileSync(ledger, `${JSON.stringify(objects)}\n`);
}

/**
 * Polls `fn` (every `intervalMs`, 100 by default) until it returns something truthy, and returns
 * that; fails the test naming `what` once `timeoutMs` (30 s by default) has passed. For waiting on
 * what another process does: never a fixed sleep. Assertions inside `fn` fail at once.
 */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
