/**
 * The seed's worker loop as the recovery tests run it across a manager restart: it squares tasks one
 * at a time and takes a `ConnectionLostError` as the restart, noting it and going on. Bounded in rounds.
 */
import { ConnectionLostError, type QueueProxy } from '../../src/client';

/**
 * Gets `count` tasks from `tasks` and puts their squares into `results`; each lost connection's
 * message goes into `lost`. Resolves with the number of tasks squared (at most 50 rounds).
 */
export async function squareAcrossRestarts(tasks: QueueProxy<number>, results: QueueProxy<number>, count: number, lost: string[] = []): Promise<number> {
  let done = 0;
  for (let round = 0; done < count && round < 50; round++) {
    try {
      const n = await tasks.get({ timeout: 30 });
      await results.put(n * n);
      done++;
    } catch (error) {
      if (!(error instanceof ConnectionLostError)) throw error;
      lost.push((error as Error).message);
    }
  }
  return done;
}
