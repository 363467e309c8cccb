import type { TestContext } from 'node:test';

/** True in CI (CI=true): there every tool a test needs is installed by .ci/run, so nothing may skip. */
export const IN_CI = process.env.CI === 'true';

/**
 * Skips a test that lacks something this machine does not have, and says why; under CI=true the same
 * absence fails the test instead, since a skip there would hide a missing install step.
 */
export function skipOrFail(ctx: TestContext, reason: string): void {
  if (IN_CI) throw new Error(`${reason}: under CI=true no test skips for a missing tool (.ci/run installs it)`);
  ctx.skip(reason);
}

/** For a test that would silently weaken (a stand-in it could not build): under CI=true that is a failure. */
export function requireInCI<T>(value: T | null | undefined, what: string): T | null | undefined {
  if (IN_CI && (value === null || value === undefined || value === false)) throw new Error(`${what} could not be built or found; under CI=true every test runs in full (.ci/run installs what it needs)`);
  return value;
}
