/**
 * The sidebar's trees as plain data: which rows a snapshot and the pages of contents make, with
 * stable ids (so expansion and selection survive refreshes), labels, descriptions, icons and
 * context values. Pure: no vscode, so every rule here is unit tested with node's test runner; the
 * tree providers only turn these rows into TreeItems.
 */

import type { InspectSnapshot, ObjectSummary, PeekResult, SessionSummary, TypeidDescription } from '../../common/protocol';
import { isPrimitiveType, isQueueType, SYNC_MANAGER_TYPEIDS } from '../../common/syncTypeids';
import { ContextValue } from '../ids';
import { formatValue, typeOfValue } from './valueFormat';

/** Items a content page shows before a "N more…" row. */
export const PAGE_SIZE = 100;

/** What kind of row it is; drives icons, context menus and children. */
export type RowKind = 'typeid' | 'object' | 'item' | 'more' | 'state' | 'session' | 'sessionDetail' | 'pending' | 'message' | 'manager' | 'elsewhere' | 'groupObject' | 'keptSessions' | 'keptSession';

/** One row of a tree. */
export interface Row {
  /** Stable across refreshes. */
  id: string;
  kind: RowKind;
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon name. */
  icon: string;
  /** `contextValue`: drives the inline and context actions in package.json. */
  contextValue: ContextValue;
  /** Whether it has children. */
  expandable: boolean;
  /** For object, item and more rows: the object's id. */
  objectId?: string;
  /** For item rows: its position (queue, list) or key (dict, namespace), in wire form. */
  index?: number;
  key?: unknown;
  /** For item rows: the value in wire form (Copy Value). */
  value?: unknown;
  /** For more rows: the offset of the next page. */
  offset?: number;
  /** For typeid rows. */
  typeid?: string;
  /**
   * For rows of an object of the group held through other managers, and their "N more…" rows: the
   * object's built-in type, which this manager's snapshot does not give (see `groupRows.ts`).
   */
  builtin?: string;
  /** For session rows. */
  sessionId?: string;
  /** For manager rows: the manager's id in its group. */
  managerId?: string;
}

/** The icon of each built-in type's objects. */
export const builtinIcons: Readonly<Record<string, string>> = {
  Queue: 'list-ordered', LifoQueue: 'list-ordered', PriorityQueue: 'list-ordered',
  dict: 'symbol-namespace', list: 'list-flat', set: 'symbol-array', Namespace: 'symbol-field', Value: 'symbol-variable', Array: 'symbol-array',
  Lock: 'lock', RLock: 'lock', Semaphore: 'symbol-number', BoundedSemaphore: 'symbol-number', Condition: 'bell', Event: 'symbol-event', Barrier: 'milestone',
  Iterator: 'arrow-right',
};

/** An object's icon: a lock's shows whether it is held. */
function objectIcon(o: ObjectSummary): string {
  if ((o.builtin === 'Lock' || o.builtin === 'RLock' || o.builtin === 'Condition') && o.details.locked === false) return 'unlock';
  return builtinIcons[o.builtin ?? ''] ?? 'symbol-object';
}

export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** Object rows' context values by built-in type; a queue of any kind is {@link ContextValue.Queue}. */
const objectContexts: Record<string, ContextValue> = {
  dict: ContextValue.Dict, list: ContextValue.List, set: ContextValue.Set, Namespace: ContextValue.Namespace, Value: ContextValue.Value,
  Array: ContextValue.Array, Lock: ContextValue.Lock, RLock: ContextValue.RLock, Semaphore: ContextValue.Semaphore,
  BoundedSemaphore: ContextValue.BoundedSemaphore, Condition: ContextValue.Condition, Event: ContextValue.Event,
  Barrier: ContextValue.Barrier, Iterator: ContextValue.Iterator,
};

/** The context value of an object row: its built-in type (every queue is `queue`), or `object` for a custom class. */
export function objectContext(summary: ObjectSummary): ContextValue {
  if (isQueueType(summary.builtin)) return ContextValue.Queue;
  return objectContexts[summary.builtin ?? ''] ?? ContextValue.Object;
}

/** Roots of the Objects view: registered typeids that are not built-ins, and built-ins with live objects. */
export function typeidRows(snapshot: InspectSnapshot): Row[] {
  const live = new Map<string, number>();
  for (const o of snapshot.objects) live.set(o.typeid, (live.get(o.typeid) ?? 0) + 1);
  const builtinNames: ReadonlySet<string> = new Set(SYNC_MANAGER_TYPEIDS);
  return snapshot.typeids
    .filter((t) => !builtinNames.has(t.typeid) || (live.get(t.typeid) ?? 0) > 0)
    .map((t) => typeidRow(t, live.get(t.typeid) ?? 0));
}

function typeidRow(t: TypeidDescription, count: number): Row {
  return {
    id: `typeid:${t.typeid}`,
    kind: 'typeid',
    label: t.typeid,
    description: `${t.builtin ?? (t.creatable ? 'custom' : 'no callable')} · ${count === 0 ? 'no live objects' : `${plural(count, 'object')}`}`,
    tooltip: [`typeid ${t.typeid}`, t.exposed ? `exposed: ${t.exposed.join(', ')}` : 'exposed: every public method', Object.keys(t.methodToTypeid).length ? `returns proxies: ${Object.entries(t.methodToTypeid).map(([m, to]) => `${m} → ${to}`).join(', ')}` : ''].filter(Boolean).join('\n'),
    icon: 'symbol-class',
    contextValue: ContextValue.Typeid,
    expandable: count > 0,
    typeid: t.typeid,
  };
}

/** How a session is named in rows: `worker.js (4242)`. */
function ownerName(names: ReadonlyMap<string, string>, owner: unknown): string {
  return typeof owner === 'string' ? (names.get(owner) ?? (owner === 'local' ? 'the manager' : owner)) : String(owner);
}

/** A one-line description of an object's state; `names` names the sessions that own locks. */
export function describeObject(o: ObjectSummary, names: ReadonlyMap<string, string> = new Map()): string {
  const parts: string[] = [o.builtin ?? o.type];
  const d = o.details;
  const waiting = (verb: string) => {
    if (typeof d.waiting === 'number' && d.waiting > 0) parts.push(`${d.waiting.toLocaleString('en-US')} waiting${verb}`);
  };
  if (isQueueType(o.builtin)) {
    parts.push(plural(o.size ?? 0, 'item'));
    if (typeof d.maxsize === 'number' && d.maxsize > 0) parts.push(`max ${d.maxsize}`);
    if (typeof d.waitingGetters === 'number' && d.waitingGetters > 0) parts.push(`${d.waitingGetters} waiting to get`);
    if (typeof d.waitingPutters === 'number' && d.waitingPutters > 0) parts.push(`${d.waitingPutters} waiting to put`);
    if (typeof d.deliveriesInFlight === 'number' && d.deliveriesInFlight > 0) parts.push(`${d.deliveriesInFlight} in flight`);
  } else if (o.builtin === 'dict') parts.push(plural(o.size ?? 0, 'key'));
  else if (o.builtin === 'list') parts.push(plural(o.size ?? 0, 'item'));
  else if (o.builtin === 'set') parts.push(plural(o.size ?? 0, 'member'));
  else if (o.builtin === 'Array') parts.push(`${formatValue(d.typecode)} ${plural(o.size ?? 0, 'item')}`);
  else if (o.builtin === 'Namespace') parts.push(plural(o.size ?? 0, 'attribute'));
  else if (o.builtin === 'Value') parts.push(`${formatValue(d.typecode)} ${formatValue(d.value, 40)}`);
  else if (o.builtin === 'Lock' || o.builtin === 'RLock' || o.builtin === 'Condition') {
    const depth = typeof d.count === 'number' && d.count > 1 ? ` ×${d.count}` : '';
    parts.push(d.locked ? `locked by ${d.owner === null || d.owner === undefined ? 'someone' : ownerName(names, d.owner)}${depth}` : 'unlocked');
    waiting(o.builtin === 'Condition' ? ' on the condition' : '');
  } else if (o.builtin === 'Semaphore' || o.builtin === 'BoundedSemaphore') {
    parts.push(`value ${String(d.value)}${typeof d.initial === 'number' ? `/${d.initial}` : ''}`);
    waiting('');
  } else if (o.builtin === 'Event') {
    parts.push(d.set ? 'set' : 'clear');
    waiting('');
  } else if (o.builtin === 'Barrier') {
    parts.push(d.broken ? 'broken' : `${String(d.waiting ?? 0)}/${String(d.parties)} waiting`);
  }
  parts.push(plural(o.refcount, 'ref'));
  return parts.join(' · ');
}

/**
 * Children of a lock, semaphore, condition, event or barrier row: its state, one fact a row
 * (these objects have no contents to page).
 */
export function stateRows(o: ObjectSummary, sessions: SessionSummary[]): Row[] {
  const names = sessionNames(sessions);
  const d = o.details;
  const rows: [string, string, string][] = [];
  if ('locked' in d) rows.push(['locked', d.locked ? 'yes' : 'no', d.locked ? 'lock' : 'unlock']);
  if ('owner' in d && d.locked) rows.push(['owner', d.owner === null ? 'unknown (a Lock may be released by anyone)' : ownerName(names, d.owner), 'person']);
  if (typeof d.count === 'number' && d.locked) rows.push(['recursion', String(d.count), 'debug-step-into']);
  if ('value' in d) rows.push(['value', String(d.value), 'symbol-number']);
  if (typeof d.initial === 'number') rows.push(['initial value', String(d.initial), 'symbol-number']);
  if (d.holders && typeof d.holders === 'object') {
    for (const [owner, permits] of Object.entries(d.holders as Record<string, unknown>)) rows.push([`held by ${ownerName(names, owner)}`, plural(Number(permits), 'permit'), 'person']);
  }
  if ('set' in d) rows.push(['state', d.set ? 'set' : 'clear', d.set ? 'pass-filled' : 'circle-large-outline']);
  if (typeof d.parties === 'number') rows.push(['parties', String(d.parties), 'organization']);
  if ('broken' in d) rows.push(['broken', d.broken ? 'yes' : 'no', d.broken ? 'error' : 'pass']);
  if (typeof d.waiting === 'number') rows.push(['waiting', String(d.waiting), 'watch']);
  return rows.map(([label, description, icon]) => ({
    id: `state:${o.id}:${label}`,
    kind: 'state' as const,
    label,
    description,
    icon,
    contextValue: ContextValue.State,
    expandable: false,
    objectId: o.id,
  }));
}

/** Whether an object row's children are its state (primitives) rather than pages of contents. */
export function showsState(o: ObjectSummary | undefined): boolean {
  return isPrimitiveType(o?.builtin);
}

/** Object rows under a typeid. */
export function objectRows(snapshot: InspectSnapshot, typeid: string): Row[] {
  const names = sessionNames(snapshot.sessions);
  return snapshot.objects
    .filter((o) => o.typeid === typeid)
    .map((o) => ({
      id: `object:${o.id}`,
      kind: 'object' as const,
      label: `${o.typeid} #${o.id}`,
      description: describeObject(o, names),
      tooltip: [`${o.type} #${o.id} (typeid ${o.typeid})`, `held by: ${o.holders.map((h) => `${names.get(h.sessionId) ?? h.sessionId} (${h.references})`).join(', ') || 'nobody'}`].join('\n'),
      icon: objectIcon(o),
      contextValue: objectContext(o),
      expandable: true,
      objectId: o.id,
      typeid: o.typeid,
    }));
}

/** Content rows of one page, plus a "N more…" row when there are more. */
export function contentRows(page: PeekResult, builtin: string | undefined): Row[] {
  const rows: Row[] = page.items.map((item, i) => {
    const index = page.offset + i;
    if (page.kind === 'entries' || page.kind === 'attributes') {
      const [key, value] = item as [unknown, unknown];
      const keyText = page.kind === 'attributes' ? String(key) : formatValue(key, 40);
      return {
        id: `item:${page.id}:k:${JSON.stringify(key)}`,
        kind: 'item' as const,
        label: keyText,
        description: `${page.kind === 'attributes' ? '= ' : ': '}${formatValue(value)}`,
        tooltip: `${keyText} (${typeOfValue(key)}) → ${typeOfValue(value)}\n${formatValue(value, 2000)}`,
        icon: page.kind === 'attributes' ? 'symbol-property' : 'symbol-key',
        contextValue: page.kind === 'entries' ? ContextValue.DictEntry : ContextValue.Attribute,
        expandable: partsOf(value).length > 0,
        objectId: page.id,
        key,
        value,
      };
    }
    return {
      id: `item:${page.id}:i:${index}`,
      kind: 'item' as const,
      label: formatValue(item),
      description: page.kind === 'value' ? typeOfValue(item) : `${isQueueType(builtin) ? (index === 0 ? 'next · ' : '') : ''}[${index}] ${typeOfValue(item)}`,
      tooltip: formatValue(item, 2000),
      icon: isQueueType(builtin) ? 'circle-small-filled' : 'symbol-value',
      // Only list items can be written back by index; a set's members or an array's items are shown read-only.
      contextValue: isQueueType(builtin) ? ContextValue.QueueItem : page.kind === 'value' ? ContextValue.ValueItem : builtin === 'list' ? ContextValue.ListItem : ContextValue.Item,
      expandable: partsOf(item).length > 0,
      objectId: page.id,
      index,
      value: item,
    };
  });
  const next = page.offset + page.items.length;
  if (next < page.total) {
    rows.push({
      id: `more:${page.id}:${next}`,
      kind: 'more',
      label: `${(page.total - next).toLocaleString('en-US')} more…`,
      description: 'expand to load the next page',
      icon: 'ellipsis',
      contextValue: ContextValue.More,
      expandable: true,
      objectId: page.id,
      offset: next,
      builtin,
    });
  }
  if (rows.length === 0) {
    rows.push({ id: `empty:${page.id}`, kind: 'message', label: '(empty)', icon: 'circle-slash', contextValue: ContextValue.Message, expandable: false, objectId: page.id });
  }
  return rows;
}

/**
 * The parts of a wire value a row can expand into: a list's, tuple's or set's items (keyed `[i]`), a
 * dict's entries (keyed by the key, shown), an object's members. None for scalars and empty values.
 */
export function partsOf(value: unknown): { key: string; indexed: boolean; value: unknown }[] {
  const items = (list: unknown[]) => list.map((v, i) => ({ key: `[${i}]`, indexed: true, value: v }));
  if (Array.isArray(value)) return items(value);
  if (typeof value !== 'object' || value === null) return [];
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    const body = record[keys[0]];
    if (keys[0] === '$tuple' || keys[0] === '$set' || keys[0] === '$frozenset') return items(body as unknown[]);
    if (keys[0] === '$dict') return (body as [unknown, unknown][]).map(([k, v]) => ({ key: formatValue(k, 40), indexed: false, value: v }));
    return []; // bytes, big numbers, opaque values, proxies: one value each
  }
  return keys.map((k) => ({ key: formatValue(k, 40), indexed: false, value: record[k] }));
}

/** Children of an item row whose value has parts (a queue item that is a dict, a list inside a list...): read-only. */
export function nestedRows(row: Row): Row[] {
  return partsOf(row.value).map((part) => ({
    id: `${row.id}/${part.key}`,
    kind: 'item' as const,
    label: part.indexed ? formatValue(part.value) : part.key,
    description: part.indexed ? `${part.key} ${typeOfValue(part.value)}` : `: ${formatValue(part.value)}`,
    tooltip: formatValue(part.value, 2000),
    icon: 'symbol-field',
    contextValue: ContextValue.NestedValue,
    expandable: partsOf(part.value).length > 0,
    objectId: row.objectId,
    value: part.value,
  }));
}

/** Items a filter reads at most, a page of 1000 at a time. */
export const FILTER_SCAN_LIMIT = 100_000;

/**
 * A filtered object's children: a row saying what matched, then the items (in their order, with
 * their real positions) whose shown text contains `text`, ignoring case, at most {@link PAGE_SIZE}.
 * `pages` are consecutive peeks from offset 0; `total` is the object's size.
 */
export function filteredRows(objectId: string, pages: PeekResult[], builtin: string | undefined, text: string, total: number): Row[] {
  const want = text.toLowerCase();
  const items = pages.flatMap((p) => contentRows({ ...p, total: p.offset + p.items.length }, builtin)).filter((r) => r.kind === 'item');
  const matches = items.filter((r) => `${r.label} ${r.description ?? ''}`.toLowerCase().includes(want));
  const scanned = items.length < total ? ` (the first ${plural(items.length, 'item')} read)` : '';
  return [
    {
      id: `filter:${objectId}`,
      kind: 'message',
      label: `filter "${text}": ${matches.length.toLocaleString('en-US')} of ${plural(total, 'item')} match${scanned}`,
      description: matches.length > PAGE_SIZE ? `the first ${PAGE_SIZE} shown` : undefined,
      icon: 'filter',
      contextValue: ContextValue.Message,
      expandable: false,
      objectId,
    },
    ...matches.slice(0, PAGE_SIZE),
  ];
}

/** Display names of sessions by id: `worker.js (4242)`. */
export function sessionNames(sessions: SessionSummary[]): Map<string, string> {
  return new Map(sessions.map((s) => [s.sessionId, `${s.clientInfo?.name ?? 'client'} (${s.processId ?? '?'})`]));
}

/** Seconds since `since`, as "2.1 s". */
export function elapsed(since: number, now = Date.now()): string {
  const s = Math.max(0, (now - since) / 1000);
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The clients of a manager: its sessions but the sidebar's own (which the Clients view labels "this sidebar"). */
export function clientCount(snapshot: InspectSnapshot, ownSessionId: string | undefined): number {
  return snapshot.sessions.filter((s) => s.sessionId !== ownSessionId).length;
}

/** Rows of the Clients view. */
export function sessionRows(snapshot: InspectSnapshot, ownSessionId?: string): Row[] {
  return snapshot.sessions.map((s) => sessionRow(s, ownSessionId));
}

/** The ids a session holds locks or permits of: its holds, without the queues it only has deliveries of. */
function heldLocks(s: SessionSummary): string[] {
  const queues = new Set((s.deliveries ?? []).map((d) => d.objectId));
  return (s.holds ?? []).filter((id) => !queues.has(id));
}

function sessionRow(s: SessionSummary, ownSessionId: string | undefined): Row {
  const locks = heldLocks(s).length;
  const deliveries = s.deliveries?.length ?? 0;
  return {
    id: `session:${s.sessionId}`,
    kind: 'session' as const,
    label: `${s.clientInfo?.name ?? 'client'}${s.sessionId === ownSessionId ? ' (this sidebar)' : ''}`,
    description: [
      // Its connection dropped and the manager keeps it for a resumption (SPEC 20.4).
      s.resumableUntil === undefined ? undefined : `detached, resumable until ${new Date(s.resumableUntil).toLocaleTimeString()}`,
      s.processId === null ? undefined : `pid ${s.processId}`,
      s.remoteAddress,
      s.protocol,
      plural(s.references, 'ref'),
      locks ? `holds ${plural(locks, 'lock')}` : undefined,
      deliveries ? `${deliveries.toLocaleString('en-US')} ${deliveries === 1 ? 'delivery' : 'deliveries'} in flight` : undefined,
      s.pending.length ? `${s.pending.length} waiting` : undefined,
    ].filter(Boolean).join(' · '),
    tooltip: `session ${s.sessionId}\n${s.clientInfo?.name ?? 'client'} ${s.clientInfo?.version ?? ''}\nconnected ${new Date(s.connectedAt).toISOString()}`,
    icon: s.resumableUntil !== undefined ? 'debug-disconnect' : s.pending.length ? 'debug-pause' : 'plug',
    contextValue: ContextValue.Session,
    expandable: s.references > 0 || s.pending.length > 0 || (s.holds?.length ?? 0) > 0,
    sessionId: s.sessionId,
  };
}

/** Children of a session row: its waiting calls, the locks and permits it holds, its deliveries in flight, then the objects it references. */
export function sessionDetailRows(snapshot: InspectSnapshot, sessionId: string, now = Date.now()): Row[] {
  const session = snapshot.sessions.find((s) => s.sessionId === sessionId);
  if (!session) return [];
  const pending: Row[] = session.pending.map((p) => ({
    id: `pending:${sessionId}:${p.requestId}`,
    kind: 'pending' as const,
    label: `${p.method} on ${p.typeid}`,
    description: `#${p.objectId} · ${elapsed(p.since, now)}`,
    tooltip: `request ${p.requestId}: ${p.method}() on ${p.typeid} #${p.objectId}, waiting since ${new Date(p.since).toISOString()}`,
    icon: 'watch',
    contextValue: ContextValue.PendingCall,
    expandable: false,
    objectId: p.objectId,
  }));
  const holds: Row[] = heldLocks(session).map((objectId) => {
    const o = snapshot.objects.find((x) => x.id === objectId);
    return {
      id: `holds:${sessionId}:${objectId}`,
      kind: 'sessionDetail' as const,
      label: `holds ${o ? `${o.typeid} #${objectId}` : `#${objectId}`}`,
      description: o ? describeObject(o, sessionNames(snapshot.sessions)) : undefined,
      tooltip: 'released automatically if this client disconnects',
      icon: 'lock',
      contextValue: ContextValue.HeldLock,
      expandable: false,
      objectId,
    };
  });
  const deliveries: Row[] = (session.deliveries ?? []).map((d) => {
    const o = snapshot.objects.find((x) => x.id === d.objectId);
    const again = d.deliveryCount > 1 ? ` · delivery ${d.deliveryCount}` : '';
    const returns = d.visibleAt !== undefined ? `, back to the queue at ${new Date(d.visibleAt).toISOString()} unless acknowledged` : '';
    return {
      id: `delivery:${sessionId}:${d.deliveryId}`,
      kind: 'sessionDetail' as const,
      label: `delivery ${d.deliveryId} of ${o ? `${o.typeid} #${d.objectId}` : `#${d.objectId}`}`,
      description: `${elapsed(d.since, now)}${again}`,
      tooltip: `taken with ack and not acknowledged yet${returns}; it goes back to the front of the queue if this client disconnects`,
      icon: 'mail',
      contextValue: ContextValue.Delivery,
      expandable: false,
      objectId: d.objectId,
    };
  });
  const held: Row[] = snapshot.objects
    .filter((o) => o.holders.some((h) => h.sessionId === sessionId))
    .map((o) => ({
      id: `held:${sessionId}:${o.id}`,
      kind: 'sessionDetail' as const,
      label: `${o.typeid} #${o.id}`,
      description: `${plural(o.holders.find((h) => h.sessionId === sessionId)!.references, 'ref')} · ${o.builtin ?? o.type}`,
      icon: 'references',
      contextValue: ContextValue.HeldObject,
      expandable: false,
      objectId: o.id,
    }));
  return [...pending, ...holds, ...deliveries, ...held];
}
