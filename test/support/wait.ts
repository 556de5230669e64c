/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until `ready` is true (a condition other callbacks set), or fails after `timeoutMs`. */
export function until(what: string, ready: () => boolean, timeoutMs = 10_000, everyMs = 5): Promise<true> {
  return eventually(what, async () => (ready() ? true : undefined), timeoutMs, everyMs);
}
