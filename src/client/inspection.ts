/**
 * The client side of inspection (capability `inspection`): summaries of every object and session,
 * pages of contents read without taking anything, and change notifications. The VS Code sidebar is
 * built on this; a script can use it too (`manager.inspection`). Values stay in their wire form
 * (JSON with `$` tags): ready to show, copy or pretty-print, whatever their language.
 */

import {
  InspectChangedNotification,
  InspectPeekRequest,
  InspectSnapshotRequest,
  InspectSubscribeRequest,
  InspectUnsubscribeRequest,
  type InspectChangedParams,
  type InspectSnapshot,
  type PeekResult,
  type RequestType,
} from '../common/protocol';
import type { RpcConnection } from './rpcConnection';

/** A subscription to change notifications; `dispose()` ends it. */
export interface InspectionSubscription {
  dispose(): Promise<void>;
}

/** Inspection methods of one connected client. */
export class Inspection {
  private readonly listeners = new Set<(change: InspectChangedParams) => void>();

  constructor(
    private readonly request: <P, R>(type: RequestType<P, R>, params: P) => Promise<R>,
    rpc: Pick<RpcConnection, 'onNotification'>,
  ) {
    const previous = rpc.onNotification;
    rpc.onNotification = (method, params) => {
      if (method === InspectChangedNotification.type.method) for (const listener of [...this.listeners]) listener(params as InspectChangedParams);
      else previous?.(method, params);
    };
  }

  /** Every object and session, summarised. */
  snapshot(): Promise<InspectSnapshot> {
    return this.request(InspectSnapshotRequest.type, {});
  }

  /** A page of an object's contents (items in wire form); nothing is taken. */
  peek(id: string, page: { offset?: number; limit?: number } = {}): Promise<PeekResult> {
    return this.request(InspectPeekRequest.type, { id, ...page });
  }

  /**
   * Calls `listener` with what changed, at most once per `intervalMs` (default 100). The first
   * subscription asks the manager to start notifying, with its interval; later ones share it; the
   * last one's dispose asks the manager to stop.
   */
  async subscribe(listener: (change: InspectChangedParams) => void, options: { intervalMs?: number } = {}): Promise<InspectionSubscription> {
    const first = this.listeners.size === 0;
    this.listeners.add(listener);
    // Only the first listener asks the manager; later ones share its notifications.
    if (first) {
      try {
        await this.request(InspectSubscribeRequest.type, options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs });
      } catch (error) {
        this.listeners.delete(listener);
        throw error;
      }
    }
    return {
      dispose: async () => {
        if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
        await this.request(InspectUnsubscribeRequest.type, {}).catch(() => {});
      },
    };
  }
}
