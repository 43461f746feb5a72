/**
 * Inspection: what the VS Code sidebar shows. Summaries of every object and session, pages of an
 * object's contents read without taking anything, and change notifications to subscribed sessions,
 * merged over an interval so a busy queue costs one notification per interval, not one per put.
 * When nobody subscribes, the hot path pays one boolean test per call.
 */

import type { InspectChangedParams, ObjectSummary, PeekResult } from '../common/protocol';
import { encodeValue, type ProxyCodec } from '../common/valueCodec';
import { Dict } from './builtins/dict';
import { List } from './builtins/list';
import { Namespace } from './builtins/namespace';
import { Queue } from './builtins/queue';
import { Value } from './builtins/value';
import type { ObjectEntry, ObjectTable } from './objectTable';
import { SharedRef } from './calls/sharedRef';

/** Default and bounds of a peek page. */
export const PEEK_DEFAULT_LIMIT = 100;
export const PEEK_MAX_LIMIT = 1000;

/** What a built-in type tells inspection about its state (locks, events, barriers, sets, arrays...). */
interface DescribesState {
  describeState(): { size?: number; details: Record<string, unknown> };
}

function describesState(obj: object): obj is DescribesState {
  return typeof (obj as Partial<DescribesState>).describeState === 'function' && (obj.constructor as { builtin?: unknown }).builtin !== undefined;
}

/** A built-in object kept in a store, which reads a page of its items there (a Redis queue). */
interface PagesItself {
  peekPage(offset: number, limit: number): Promise<{ kind: PeekResult['kind']; total: number; items: unknown[] }>;
}

function pagesItself(obj: object): obj is PagesItself {
  return typeof (obj as Partial<PagesItself>).peekPage === 'function' && (obj.constructor as { builtin?: unknown }).builtin !== undefined;
}

/**
 * A built-in object kept whole in a store (a dict in Redis): inspection reads an in-memory copy
 * of it, the last one a call saw for a summary, a fresh one for a peek.
 */
interface KeptInStore {
  lastCopy(): object;
  freshCopy(): Promise<object>;
}

function keptInStore(obj: object): obj is KeptInStore {
  return typeof (obj as Partial<KeptInStore>).freshCopy === 'function' && (obj.constructor as { builtin?: unknown }).builtin !== undefined;
}

/** Turns a value into its display form. */
type Show = (value: unknown) => unknown;

/**
 * Encodes a value for display, falling back to a description for what cannot be sent. `codec`
 * shows a stored reference as its token without giving anybody a reference.
 */
function shown(value: unknown, codec: ProxyCodec): unknown {
  try {
    return encodeValue(value, codec);
  } catch {
    return `<${typeof value === 'object' && value !== null ? (value.constructor?.name ?? 'object') : typeof value}>`;
  }
}

/** The contents of an object, in display order (copied whole; queues are paged without a copy in peek). */
function contentsOf(obj: object): { kind: PeekResult['kind']; all: () => unknown[] } {
  if (obj instanceof Queue) return { kind: 'items', all: () => obj.peekAll() };
  if (obj instanceof List) return { kind: 'items', all: () => obj.snapshot() };
  if (obj instanceof Dict) return { kind: 'entries', all: () => obj.entries() };
  if (obj instanceof Namespace) return { kind: 'attributes', all: () => Object.entries(obj.snapshot()) };
  if (obj instanceof Value) return { kind: 'value', all: () => [obj.get()] };
  // Other built-in containers (set, Array) list their items.
  if (describesState(obj) && typeof (obj as { snapshot?: unknown }).snapshot === 'function') {
    return { kind: 'items', all: () => (obj as unknown as { snapshot(): unknown[] }).snapshot() };
  }
  // A lock, an event, a barrier: no contents; their state is in the summary's details.
  if (describesState(obj)) return { kind: 'attributes', all: () => [] };
  // A custom object shows its public fields: own, enumerable, not named with a leading underscore.
  return { kind: 'attributes', all: () => Object.entries(obj).filter(([k, v]) => typeof v !== 'function' && !k.startsWith('_')) };
}

/** Type-specific details of an object for its summary. */
function detailsOf(obj: object, show: Show): { size?: number; details: Record<string, unknown> } {
  if (keptInStore(obj)) return detailsOf(obj.lastCopy(), show);
  if (obj instanceof List) return { size: obj.size, details: {} };
  if (obj instanceof Dict) return { size: obj.entries().length, details: {} };
  if (obj instanceof Namespace) return { size: Object.keys(obj.snapshot()).length, details: {} };
  if (obj instanceof Value) return { details: { typecode: show(obj.typecode), value: show(obj.get()) } };
  if (describesState(obj)) return obj.describeState();
  return { details: {} };
}

/** A subscribed session's channel. */
export interface Subscriber {
  readonly sessionId: string;
  notify(method: string, params: unknown): void;
}

/** Collects changes and answers inspection requests. */
export class Inspector {
  private readonly subscribers = new Map<string, { subscriber: Subscriber; intervalMs: number; timer?: NodeJS.Timeout; pending: Pending }>();

  /** Display form of values: stored references show as their tokens. */
  private readonly show: Show;

  constructor(private readonly table: ObjectTable) {
    const codec: ProxyCodec = { encodeProxy: (value) => (value instanceof SharedRef ? table.peekToken(value.obj) : undefined) };
    this.show = (value) => shown(value, codec);
  }

  /** Whether anybody listens: the hot path tests this before recording anything. */
  get active(): boolean {
    return this.subscribers.size > 0;
  }

  /** A summary of one object. */
  summarize(entry: ObjectEntry): ObjectSummary {
    const { size, details } = detailsOf(entry.obj, this.show);
    const summary: ObjectSummary = {
      id: entry.id,
      typeid: entry.typeid,
      type: (entry.obj.constructor as { builtin?: string; name?: string })?.builtin || entry.obj.constructor?.name || 'object',
      refcount: entry.refcount,
      holders: [...entry.holders].map(([sessionId, references]) => ({ sessionId, references })),
      details,
      exposed: [...entry.exposed],
    };
    if (entry.builtin) summary.builtin = entry.builtin;
    if (size !== undefined) summary.size = size;
    return summary;
  }

  /** A value in its display form, as a peek shows it. */
  display(value: unknown): unknown {
    return this.show(value);
  }

  /** A page of an object's contents; nothing is taken. An object kept in a store is read there (a promise). */
  peek(entry: ObjectEntry, offset: number, limit: number): PeekResult | Promise<PeekResult> {
    const obj = entry.obj;
    if (pagesItself(obj)) return obj.peekPage(offset, limit).then(({ kind, total, items }) => ({ id: entry.id, kind, total, offset, items: items.map(this.show) }));
    if (keptInStore(obj)) return obj.freshCopy().then((copy) => this.peekObject(entry.id, copy, offset, limit));
    return this.peekObject(entry.id, obj, offset, limit);
  }

  /** A page of the contents of `obj` (object `id`, or a copy of it). */
  private peekObject(id: string, obj: object, offset: number, limit: number): PeekResult {
    // A long queue is the common case worth paging without a full copy.
    if (obj instanceof Queue) return { id, kind: 'items', total: obj.size, offset, items: obj.peekRange(offset, limit).map(this.show) };
    const { kind, all } = contentsOf(obj);
    const items = all();
    return { id, kind, total: items.length, offset, items: items.slice(offset, offset + limit).map(this.show) };
  }

  /**
   * Starts notifying a session. Subscribing again replaces the subscription, as SPEC 17.5 says:
   * the new interval applies at once, and what was collected is dropped (the client takes a new
   * snapshot), rather than waiting behind a timer of the old interval.
   */
  subscribe(subscriber: Subscriber, intervalMs: number): void {
    this.unsubscribe(subscriber.sessionId);
    this.subscribers.set(subscriber.sessionId, { subscriber, intervalMs, pending: new Pending() });
  }

  unsubscribe(sessionId: string): void {
    const s = this.subscribers.get(sessionId);
    if (s?.timer) clearTimeout(s.timer);
    this.subscribers.delete(sessionId);
  }

  /** An object's contents or references may have changed. */
  touched(id: string): void {
    this.record((p) => p.changed.add(id));
  }

  added(id: string): void {
    this.record((p) => p.added.add(id));
  }

  removed(id: string): void {
    this.record((p) => p.removed.add(id));
  }

  /** Sessions came, went, or started or ended a blocking call. */
  sessionsChanged(): void {
    this.record((p) => (p.sessions = true));
  }

  /** Stops every timer (the manager is shutting down). */
  dispose(): void {
    for (const id of [...this.subscribers.keys()]) this.unsubscribe(id);
  }

  private record(change: (pending: Pending) => void): void {
    for (const s of this.subscribers.values()) {
      change(s.pending);
      if (!s.timer) {
        s.timer = setTimeout(() => {
          s.timer = undefined;
          const params = s.pending.take();
          s.subscriber.notify('inspect/changed', params);
        }, s.intervalMs);
      }
    }
  }
}

/** Changes not yet sent to one subscriber. */
class Pending {
  changed = new Set<string>();
  added = new Set<string>();
  removed = new Set<string>();
  sessions = false;

  take(): InspectChangedParams {
    // An id in both added and removed came and went (or went and came back) within the interval:
    // a client takes a fresh snapshot to know which; `changed` need not repeat them.
    for (const id of this.removed) this.changed.delete(id);
    for (const id of this.added) this.changed.delete(id);
    const params: InspectChangedParams = { changed: [...this.changed], added: [...this.added], removed: [...this.removed], sessions: this.sessions };
    this.changed.clear();
    this.added.clear();
    this.removed.clear();
    this.sessions = false;
    return params;
  }
}
