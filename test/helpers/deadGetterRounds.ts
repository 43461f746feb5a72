/**
 * Rounds of an unlucky timing: the process of a getter blocked first in line in `q.get()` is
 * SIGKILLed, and as soon as it has exited an item is put. The item must reach the live getter
 * waiting second in line, once; a hand-off to the dead getter's connection loses it.
 */
import { connect, type ManagerClient, type QueueProxy } from '../../src/client';

/** A getter process blocked in `get()` on the manager's `get_queue`. */
export interface DoomedGetter {
  readonly pid: number;
  /** SIGKILL; resolves once the process has exited. */
  kill(): Promise<void>;
}

/** What the rounds saw. */
export interface RoundsResult {
  /** Rounds whose item never reached the live getter. */
  readonly lost: number[];
  /** Rounds whose item reached the live getter but also stayed in (or came back to) the queue. */
  readonly duplicated: number[];
}

/** Waits, by asking the manager (bounded in rounds and time), until `count` gets wait in it, over every session. */
async function untilWaitingGets(client: ManagerClient, count: number, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let asks = 0; asks < 5000 && Date.now() < deadline; asks++) {
    const { sessions } = await client.inspection.snapshot();
    if (sessions.reduce((n, s) => n + s.pending.filter((p) => p.method === 'get').length, 0) === count) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Runs `rounds` rounds against the manager at `address` (best in a process of its own, as in
 * use: then the dead getter's end of stream and the put can reach it in the same turn), which
 * must have `get_queue` registered as a shared Queue. `startDoomed` starts a getter process and
 * resolves once it has sent its get.
 */
export async function deadGetterRounds(address: string, authkey: string, rounds: number, startDoomed: (round: number) => Promise<DoomedGetter>): Promise<RoundsResult> {
  await using producer = await connect<{ get_queue: QueueProxy<string> }>({ address, authkey, name: 'producer' });
  await using live = await connect<{ get_queue: QueueProxy<string> }>({ address, authkey, name: 'live-getter' });
  const q = await producer.get_queue();
  const liveQ = await live.get_queue();
  const lost: number[] = [];
  const duplicated: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const doomed = await startDoomed(round);
    await untilWaitingGets(producer, 1, `round ${round}: the doomed getter ${doomed.pid} to block in get()`);
    const got = liveQ.get();
    await untilWaitingGets(producer, 2, `round ${round}: the live getter to block in get(), second in line`);
    await doomed.kill();
    const item = `item ${round}`;
    await q.put(item);
    // Bounded: a lost item never arrives; a filler put then frees the live getter for the next round.
    const first = await Promise.race([got, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3000).unref())]);
    if (first !== item) {
      lost.push(round);
      await q.put('filler');
      await got;
    }
    if ((await q.qsize()) !== 0) {
      duplicated.push(round);
      while ((await q.qsize()) > 0) await q.getNowait();
    }
  }
  return { lost, duplicated };
}
