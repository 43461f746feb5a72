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
