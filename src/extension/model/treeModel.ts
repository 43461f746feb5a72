/**
 * The sidebar's trees as plain data: which rows a snapshot and the pages of contents make, with
 * stable ids (so expansion and selection survive refreshes), labels, descriptions, icons and
 * context values. Pure: no vscode, so every rule here is unit tested with node's test runner; the
 * tree providers only turn these rows into TreeItems.
 */

import type { InspectSnapshot, ObjectSummary, PeekResult, SessionSummary, TypeidDescription } from '../../common/protocol';
import { formatValue, typeOfValue } from './valueFormat';

/** Items a content page shows before a "N more…" row. */
export const PAGE_SIZE = 100;

/** What kind of row it is; drives icons, context menus and children. */
export type RowKind = 'typeid' | 'object' | 'item' | 'more' | 'session' | 'sessionDetail' | 'pending' | 'message';

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
  contextValue: string;
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
  /** For session rows. */
  sessionId?: string;
}

const builtinIcons: Record<string, string> = { Queue: 'list-ordered', dict: 'symbol-namespace', list: 'list-flat', Namespace: 'symbol-field', Value: 'symbol-variable' };

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** The context value of an object row: its built-in type in lower case, or `object`. */
export function objectContext(summary: ObjectSummary): string {
  return summary.builtin ? summary.builtin.toLowerCase() : 'object';
}

/** Roots of the Objects view: registered typeids that are not built-ins, and built-ins with live objects. */
export function typeidRows(snapshot: InspectSnapshot): Row[] {
  const live = new Map<string, number>();
  for (const o of snapshot.objects) live.set(o.typeid, (live.get(o.typeid) ?? 0) + 1);
  const builtinNames = new Set(['Queue', 'dict', 'list', 'Namespace', 'Value']);
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
    contextValue: 'typeid',
    expandable: count > 0,
    typeid: t.typeid,
  };
}

/** A one-line description of an object's state. */
export function describeObject(o: ObjectSummary): string {
  const parts: string[] = [o.builtin ?? o.type];
  const d = o.details;
  if (o.builtin === 'Queue') {
    parts.push(plural(o.size ?? 0, 'item'));
    if (typeof d.maxsize === 'number' && d.maxsize > 0) parts.push(`max ${d.maxsize}`);
    if (typeof d.waitingGetters === 'number' && d.waitingGetters > 0) parts.push(`${d.waitingGetters} waiting to get`);
    if (typeof d.waitingPutters === 'number' && d.waitingPutters > 0) parts.push(`${d.waitingPutters} waiting to put`);
  } else if (o.builtin === 'dict') parts.push(plural(o.size ?? 0, 'key'));
  else if (o.builtin === 'list') parts.push(plural(o.size ?? 0, 'item'));
  else if (o.builtin === 'Namespace') parts.push(plural(o.size ?? 0, 'attribute'));
  else if (o.builtin === 'Value') parts.push(`${formatValue(d.typecode)} ${formatValue(d.value, 40)}`);
  parts.push(plural(o.refcount, 'ref'));
  return parts.join(' · ');
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
      description: describeObject(o),
      tooltip: [`${o.type} #${o.id} (typeid ${o.typeid})`, `held by: ${o.holders.map((h) => `${names.get(h.sessionId) ?? h.sessionId} (${h.references})`).join(', ') || 'nobody'}`].join('\n'),
      icon: builtinIcons[o.builtin ?? ''] ?? 'symbol-object',
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
        contextValue: page.kind === 'entries' ? 'dictEntry' : 'attribute',
        expandable: false,
        objectId: page.id,
        key,
        value,
      };
    }
    return {
      id: `item:${page.id}:i:${index}`,
      kind: 'item' as const,
      label: formatValue(item),
      description: page.kind === 'value' ? typeOfValue(item) : `${builtin === 'Queue' ? (index === 0 ? 'next · ' : '') : ''}[${index}] ${typeOfValue(item)}`,
      tooltip: formatValue(item, 2000),
      icon: builtin === 'Queue' ? 'circle-small-filled' : 'symbol-value',
      contextValue: builtin === 'Queue' ? 'queueItem' : page.kind === 'value' ? 'valueItem' : 'listItem',
      expandable: false,
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
      contextValue: 'more',
      expandable: true,
      objectId: page.id,
      offset: next,
    });
  }
  if (rows.length === 0) {
    rows.push({ id: `empty:${page.id}`, kind: 'message', label: '(empty)', icon: 'circle-slash', contextValue: 'message', expandable: false, objectId: page.id });
  }
  return rows;
}

function sessionNames(sessions: SessionSummary[]): Map<string, string> {
  return new Map(sessions.map((s) => [s.sessionId, `${s.clientInfo?.name ?? 'client'} (${s.processId ?? '?'})`]));
}

/** Seconds since `since`, as "2.1 s". */
export function elapsed(since: number, now = Date.now()): string {
  const s = Math.max(0, (now - since) / 1000);
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Rows of the Clients view. */
export function sessionRows(snapshot: InspectSnapshot, ownSessionId?: string): Row[] {
  return snapshot.sessions.map((s) => ({
    id: `session:${s.sessionId}`,
    kind: 'session' as const,
    label: `${s.clientInfo?.name ?? 'client'}${s.sessionId === ownSessionId ? ' (this sidebar)' : ''}`,
    description: [s.processId === null ? undefined : `pid ${s.processId}`, s.remoteAddress, s.protocol, plural(s.references, 'ref'), s.pending.length ? `${s.pending.length} waiting` : undefined].filter(Boolean).join(' · '),
    tooltip: `session ${s.sessionId}\n${s.clientInfo?.name ?? 'client'} ${s.clientInfo?.version ?? ''}\nconnected ${new Date(s.connectedAt).toISOString()}`,
    icon: s.pending.length ? 'debug-pause' : 'plug',
    contextValue: 'session',
    expandable: s.references > 0 || s.pending.length > 0,
    sessionId: s.sessionId,
  }));
}

/** Children of a session row: its waiting calls, then the objects it holds. */
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
    contextValue: 'pendingCall',
    expandable: false,
    objectId: p.objectId,
  }));
  const held: Row[] = snapshot.objects
    .filter((o) => o.holders.some((h) => h.sessionId === sessionId))
    .map((o) => ({
      id: `held:${sessionId}:${o.id}`,
      kind: 'sessionDetail' as const,
      label: `${o.typeid} #${o.id}`,
      description: `${plural(o.holders.find((h) => h.sessionId === sessionId)!.references, 'ref')} · ${o.builtin ?? o.type}`,
      icon: 'references',
      contextValue: 'heldObject',
      expandable: false,
      objectId: o.id,
    }));
  return [...pending, ...held];
}
