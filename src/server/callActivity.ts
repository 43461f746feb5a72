/**
 * Activity: the calls that reached their objects, for sessions that watch them (`inspect/watchCalls`,
 * SPEC 17.8). The object service asks {@link CallActivity.watched} once per call; only when somebody
 * watches does it time the call and describe its arguments and result. Each watcher keeps at most
 * {@link ACTIVITY_BUFFER_LIMIT} calls not yet sent (older ones are counted as dropped) and gets at
 * most {@link ACTIVITY_NOTIFICATION_LIMIT} per notification, so a watcher that cannot keep up costs
 * bounded memory.
 */

import { performance } from 'node:perf_hooks';
import type { CallRecord, InspectCallsParams } from '../common/protocol';
import { encodeValue, type ProxyCodec } from '../common/valueCodec';
import { writeJson } from '../common/jsonText';
import { describeThrown } from './exceptions';
import type { ObjectEntry, ObjectTable } from './objectTable';
import { SharedRef } from './calls/sharedRef';
import type { Subscriber } from './inspector';

/** Calls a watcher keeps before the oldest are dropped. */
export const ACTIVITY_BUFFER_LIMIT = 1000;
/** Calls in one `inspect/calls` notification. */
export const ACTIVITY_NOTIFICATION_LIMIT = 200;
/** Characters of an argument, result or error summary. */
export const ACTIVITY_SUMMARY_LIMIT = 200;

/** Cuts display text to the summary limit, ending with an ellipsis when cut. */
export function truncateSummary(text: string): string {
  return text.length <= ACTIVITY_SUMMARY_LIMIT ? text : `${text.slice(0, ACTIVITY_SUMMARY_LIMIT - 1)}…`;
}

/** One watching session: calls not yet sent, and the timer that sends them. */
class Watcher {
  /** A ring of pending calls: `start` is the oldest, `count` how many. */
  private readonly ring: (CallRecord | undefined)[] = [];
  private start = 0;
  private count = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly subscriber: Subscriber,
    private readonly intervalMs: number,
  ) {}

  add(record: CallRecord): void {
    if (this.count === ACTIVITY_BUFFER_LIMIT) {
      // Full: the oldest call gives way.
      this.ring[this.start] = record;
      this.start = (this.start + 1) % ACTIVITY_BUFFER_LIMIT;
      this.dropped++;
    } else {
      this.ring[(this.start + this.count) % ACTIVITY_BUFFER_LIMIT] = record;
      this.count++;
    }
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.subscriber.notify('inspect/calls', this.take());
      // What did not fit in one notification goes in the next.
      if (this.count > 0) this.schedule();
    }, this.intervalMs);
  }

  private take(): InspectCallsParams {
    const n = Math.min(this.count, ACTIVITY_NOTIFICATION_LIMIT);
    const calls: CallRecord[] = [];
    for (let i = 0; i < n; i++) {
      const at = (this.start + i) % ACTIVITY_BUFFER_LIMIT;
      calls.push(this.ring[at]!);
      this.ring[at] = undefined;
    }
    this.start = (this.start + n) % ACTIVITY_BUFFER_LIMIT;
    this.count -= n;
    const params: InspectCallsParams = { calls, dropped: this.dropped };
    this.dropped = 0;
    return params;
  }
}

/** What a call's result is shown as when it is a new proxy (duck-typed: the object service's `ProxyResult`). */
interface HasEntry {
  readonly entry: ObjectEntry;
}

/** The calls of every session, for the sessions that watch them. */
export class CallActivity {
  private readonly watchers = new Map<string, Watcher>();
  private readonly codec: ProxyCodec;

  constructor(table: ObjectTable) {
    // A proxy shows as its token; nobody is given a reference for it.
    this.codec = {
      encodeProxy: (value) => {
        if (value instanceof SharedRef) return table.peekToken(value.obj);
        const entry = (value as Partial<HasEntry> | null)?.entry;
        return entry && typeof entry === 'object' && 'id' in entry ? table.peekToken(entry.obj) : undefined;
      },
    };
  }

  /** Whether anybody watches: the one test the hot path makes. */
  get watched(): boolean {
    return this.watchers.size > 0;
  }

  /** Starts sending `inspect/calls` to a session; watching again replaces the watch (pending calls are dropped). */
  watch(subscriber: Subscriber, intervalMs: number): void {
    this.unwatch(subscriber.sessionId);
    this.watchers.set(subscriber.sessionId, new Watcher(subscriber, intervalMs));
  }

  /** Stops it; pending calls are dropped. */
  unwatch(sessionId: string): void {
    this.watchers.get(sessionId)?.stop();
    this.watchers.delete(sessionId);
  }

  /** Stops every timer (the manager is shutting down). */
  dispose(): void {
    for (const id of [...this.watchers.keys()]) this.unwatch(id);
  }

  /**
   * Runs a call and records it when it ends (at once, or when its promise settles). What `run`
   * returns or throws passes through unchanged.
   */
  observe(sessionId: string, entry: ObjectEntry, method: string, args: readonly unknown[], run: () => unknown): unknown {
    const startedAt = Date.now();
    const began = performance.now();
    const base = { sessionId, objectId: entry.id, typeid: entry.typeid, method, args: this.summary(args), startedAt };
    const finish = (outcome: { result: unknown } | { error: unknown }): void => {
      const record: CallRecord = { ...base, durationMs: Math.max(0, performance.now() - began) };
      if ('result' in outcome) record.result = this.summary(outcome.result);
      else record.error = errorSummary(outcome.error);
      for (const w of this.watchers.values()) w.add(record);
    };
    let result: unknown;
    try {
      result = run();
    } catch (error) {
      finish({ error });
      throw error;
    }
    if (result instanceof Promise) {
      result.then(
        (value) => finish({ result: value }),
        (error) => finish({ error }),
      );
    } else {
      finish({ result });
    }
    return result;
  }

  private summary(value: unknown): string {
    let text: string;
    try {
      text = writeJson(encodeValue(value, this.codec));
    } catch {
      text = `<${typeof value === 'object' && value !== null ? (value.constructor?.name ?? 'object') : typeof value}>`;
    }
    return truncateSummary(text);
  }
}

function errorSummary(error: unknown): string {
  const { type, message } = describeThrown(error);
  return truncateSummary(message ? `${type}: ${message}` : type);
}
