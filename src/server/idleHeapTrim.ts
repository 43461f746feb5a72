/**
 * Gives memory back when a manager process falls idle after a burst of calls.
 *
 * Under a burst V8 grows its young generation (from 1 to 16 MB a semi-space in Node 20) and does
 * not shrink it again on an idle server: it shrinks only in a full collection made while the
 * allocation rate is low, and its memory reducer, with no collection since the burst, keeps
 * judging the rate high and never starts one. So a manager filled with a million items kept 32 MB
 * of empty young generation for as long as it stayed idle. One full collection, made once the
 * process has been idle for a while, shrinks it to 1 MB and frees the garbage promoted under the
 * burst too; it costs a few milliseconds, off the path of any call.
 *
 * Only the CLI's processes (`syncmanager serve`, `Manager.start()`'s child, the extension's
 * server) do this: a process of the user's own that calls `listen()` keeps its own collector's
 * policy.
 */

import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often the process's CPU time is read to tell whether it is idle. */
export const IDLE_CHECK_MS = 5000;
/**
 * CPU time (µs) over one {@link IDLE_CHECK_MS} below which the process counts as idle: 1 %. An
 * idle manager uses next to none; a collection of this step stays below it on a large heap.
 */
const IDLE_CPU_US = IDLE_CHECK_MS * 10;
/** A young generation above this has grown under a burst (V8 starts it at 1 to 4 MB). */
const GROWN_NEW_SPACE_BYTES = 4 * 1024 * 1024;
/**
 * Collections tried in one idle stretch: V8 shrinks the young generation only when the allocation
 * rate it measured is low, which a collection made in the first seconds after a burst may not yet
 * find; a young generation kept large on purpose (`--min-semi-space-size`) never shrinks.
 */
const TRIES_PER_IDLE_STRETCH = 2;

/** What one step did, for the log. */
export interface HeapTrim {
  /** The young generation's size before and after, in bytes. */
  newSpaceBefore: number;
  newSpaceAfter: number;
  /** The heap's whole size before and after, in bytes. */
  heapBefore: number;
  heapAfter: number;
}

/** The young generation's size and the heap's, in bytes. */
function heapSizes(): { newSpace: number; heap: number } {
  let newSpace = 0;
  let heap = 0;
  for (const space of getHeapSpaceStatistics()) {
    heap += space.space_size;
    if (space.space_name === 'new_space') newSpace = space.space_size;
  }
  return { newSpace, heap };
}

/**
 * V8's full collection: `gc` where the process was started with `--expose-gc`, else the one a new
 * context gets while the flag is set for a moment (the flag only affects contexts made after it,
 * so the process's own global stays as it was); undefined where neither gives one (a runtime that
 * refuses the flag), and the step is then not taken.
 */
function fullCollection(): (() => void) | undefined {
  let gc: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== 'function') {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc');
    } catch {
      gc = undefined;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  if (typeof gc !== 'function') return undefined;
  const collect = gc as (options: { type: 'major'; execution: 'sync' }) => void;
  return () => collect({ type: 'major', execution: 'sync' });
}

/**
 * Checks every {@link IDLE_CHECK_MS} whether the process was idle since the last check and its
 * young generation has grown; if so, makes one full collection and, if it gave memory back,
 * reports what it did to `onTrim`. The timer does not keep the process alive; `stop()` ends it.
 */
export function trimHeapWhenIdle(onTrim: (trim: HeapTrim) => void): { stop(): void } {
  const collect = fullCollection();
  if (!collect) return { stop: () => {} };
  let cpu = process.cpuUsage();
  let tries = TRIES_PER_IDLE_STRETCH;
  const timer = setInterval(() => {
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    if (used.user + used.system >= IDLE_CPU_US) {
      tries = TRIES_PER_IDLE_STRETCH;
      return;
    }
    const before = heapSizes();
    if (before.newSpace <= GROWN_NEW_SPACE_BYTES || tries === 0) return;
    tries--;
    try {
      collect();
    } catch {
      // A collection refused must not end the server: the step is not taken again.
      clearInterval(timer);
      return;
    }
    const after = heapSizes();
    // The collection's own CPU time is not the calls': the next check starts after it.
    cpu = process.cpuUsage();
    // A try that came too early gave nothing back: nothing to say.
    if (after.heap < before.heap) onTrim({ newSpaceBefore: before.newSpace, newSpaceAfter: after.newSpace, heapBefore: before.heap, heapAfter: after.heap });
  }, IDLE_CHECK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The log line of a step: `idle: heap 64.0 → 41.9 MB (young generation 32.0 → 1.0 MB)`. */
export function heapTrimLine(trim: HeapTrim): string {
  const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
  return `idle: heap ${mb(trim.heapBefore)} → ${mb(trim.heapAfter)} MB (young generation ${mb(trim.newSpaceBefore)} → ${mb(trim.newSpaceAfter)} MB)`;
}
