/**
 * The client side of inspection (capability `inspection`): summaries of every object and session,
 * pages of contents read without taking anything, and change notifications. The VS Code sidebar is
 * built on this; a script can use it too (`manager.inspection`). Values stay in their wire form
 * (JSON with `$` tags): ready to show, copy or pretty-print, whatever their language.
 */

import {
  InspectCallsNotification,
  InspectChangedNotification,
  InspectGroupRequest,
  InspectPeekRequest,
  InspectRemoveItemRequest,
  InspectReplaceItemRequest,
  InspectSnapshotRequest,
  InspectSubscribeRequest,
  InspectUnsubscribeRequest,
  InspectUnwatchCallsRequest,
  InspectWatchCallsRequest,
  type InspectCallsParams,
  type InspectChangedParams,
  type InspectGroup,
  type InspectSnapshot,
  type PeekResult,
  type RemoveItemResult,
  type ReplaceItemResult,
  type RequestType,
} from '../common/protocol';
import type { RpcConnection } from './rpcConnection';

/** A subscription to change notifications; `dispose()` ends it. */
export interface InspectionSubscription {
  dispose(): Promise<void>;
}

/** One notification stream of the manager's and its listeners here. */
interface Stream<L> {
  readonly listeners: Set<L>;
  /** The interval the first listener asked for, asked again of a new connection. */
  intervalMs?: number;
  readonly start: RequestType<{ intervalMs?: number }, null>;
  readonly stop: RequestType<Record<string, never>, null>;
}

/** Inspection methods of one connected client. */
export class Inspection {
  private readonly changes: Stream<(change: InspectChangedParams) => void> = { listeners: new Set(), start: InspectSubscribeRequest.type, stop: InspectUnsubscribeRequest.type };
  private readonly calls: Stream<(calls: InspectCallsParams) => void> = { listeners: new Set(), start: InspectWatchCallsRequest.type, stop: InspectUnwatchCallsRequest.type };

  constructor(
    private readonly request: <P, R>(type: RequestType<P, R>, params: P) => Promise<R>,
    rpc: Pick<RpcConnection, 'onNotification'>,
  ) {
    const previous = rpc.onNotification;
    rpc.onNotification = (method, params) => {
      if (method === InspectChangedNotification.type.method) for (const listener of [...this.changes.listeners]) listener(params as InspectChangedParams);
      else if (method === InspectCallsNotification.type.method) for (const listener of [...this.calls.listeners]) listener(params as InspectCallsParams);
      else previous?.(method, params);
    };
  }

  /** Every object and session, summarised. */
  snapshot(): Promise<InspectSnapshot> {
    return this.request(InspectSnapshotRequest.type, {});
  }

  /**
   * Every manager of the group this manager belongs to (managers sharing one Redis store), each
   * with its address and sessions, and the objects the group shares; a manager alone lists itself
   * (SPEC 17.11, since 1.3).
   */
  group(): Promise<InspectGroup> {
    return this.request(InspectGroupRequest.type, {});
  }

  /** A page of an object's contents (items in wire form); nothing is taken. */
  peek(id: string, page: { offset?: number; limit?: number } = {}): Promise<PeekResult> {
    return this.request(InspectPeekRequest.type, { id, ...page });
  }

  /**
   * Removes the item at `index` of queue or list `id`, if it is still `expected` (the item as a peek
   * showed it); refused with InvalidParams otherwise (SPEC 17.9).
   */
  removeItem(id: string, index: number, expected: unknown): Promise<RemoveItemResult> {
    return this.request(InspectRemoveItemRequest.type, { id, index, expected });
  }

  /**
   * Replaces the item at `index` of queue or list `id` with `item` (a value in wire form, `$` tags and all),
   * if the item there is still `expected`; refused with InvalidParams otherwise (SPEC 17.10).
   */
  replaceItem(id: string, index: number, expected: unknown, item: unknown): Promise<ReplaceItemResult> {
    return this.request(InspectReplaceItemRequest.type, { id, index, expected, item });
  }

  /**
   * Calls `listener` with what changed, at most once per `intervalMs` (default 100). The first
   * subscription asks the manager to start notifying, with its interval; later ones share it; the
   * last one's dispose asks the manager to stop.
   */
  subscribe(listener: (change: InspectChangedParams) => void, options: { intervalMs?: number } = {}): Promise<InspectionSubscription> {
    return this.share(this.changes, listener, options.intervalMs);
  }

  /**
   * Calls `listener` with the calls that ended (every session's, SPEC 17.8), at most once per
   * `intervalMs` (default 100). As for {@link subscribe}, the first watcher asks the manager and
   * the last one's dispose tells it to stop.
   */
  watchCalls(listener: (calls: InspectCallsParams) => void, options: { intervalMs?: number } = {}): Promise<InspectionSubscription> {
    return this.share(this.calls, listener, options.intervalMs);
  }

  /**
   * Asks a new connection (after a reconnect) for the streams that have listeners here, with the
   * intervals first asked for: a session's subscriptions end with it, the listeners do not.
   * Resolves when the manager has answered; a stream it refuses stays silent.
   */
  async resubscribe(): Promise<void> {
    await Promise.all(
      [this.changes, this.calls].filter((stream) => stream.listeners.size > 0).map((stream) => this.request(stream.start, stream.intervalMs === undefined ? {} : { intervalMs: stream.intervalMs }).catch(() => {})),
    );
  }

  /** One notification stream shared by its listeners: the first asks the manager to start it, the last one's dispose to stop it. */
  private async share<L>(stream: Stream<L>, listener: L, intervalMs: number | undefined): Promise<InspectionSubscription> {
    const { listeners } = stream;
    const first = listeners.size === 0;
    listeners.add(listener);
    if (first) {
      try {
        stream.intervalMs = intervalMs;
        await this.request(stream.start, intervalMs === undefined ? {} : { intervalMs });
      } catch (error) {
        listeners.delete(listener);
        throw error;
      }
    }
    return {
      dispose: async () => {
        if (!listeners.delete(listener) || listeners.size > 0) return;
        await this.request(stream.stop, {}).catch(() => {});
      },
    };
  }
}
