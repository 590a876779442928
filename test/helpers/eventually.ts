/**
 * Waiting for a condition instead of sleeping a fixed time: a sleep long enough for a
 * slow CI machine wastes time on a fast one, and one short enough for a fast machine
 * fails on a slow one. The probe is polled until it returns something truthy.
 */

/**
 * Polls `probe` until it returns something truthy and returns that; fails with `what`
 * after `timeoutMs`: 30 s by default, since waiting longer costs only a failing run while
 * a bound too tight for a busy 2-core CI machine fails good ones. A probe that throws is
 * tried again (a server may still be starting); the last error is in the failure. Polls
 * every 20 ms at first, backing off to 100 ms, so a quick condition is seen at once and a
 * long wait does not keep a core busy.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let everyMs = 20;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : `: ${String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    everyMs = Math.min(100, everyMs * 2);
  }
}
