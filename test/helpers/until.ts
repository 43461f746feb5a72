/**
 * Waits for a condition the test cannot be told about directly (a process's connection being
 * seen as gone by the server): checks it on every turn of a short timer, bounded in time, and
 * fails naming what it waited for. The condition is what synchronises, never the delay.
 */
export async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let checks = 0; !condition(); checks++) {
    if (Date.now() > deadline || checks > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Polls `read` until `done` holds of its result: bounded in count and time, failing with what it last saw. */
export async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (let tries = 0; tries < timeoutMs; tries++) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(last)}`);
}
