/**
 * The sidebar's rows for a group of managers sharing one Redis store (SPEC 17.11): the Clients
 * view groups clients under their manager, and objects of user-registered classes say that they
 * live in this manager's process only. A manager alone (no group, or an older server) shows as
 * before.
 */

import type { GroupObjectSummary, InspectGroup, InspectSnapshot, ObjectSummary } from '../../common/protocol';
import { isPrimitiveType } from '../../common/syncTypeids';
import { ContextValue } from '../ids';
import { builtinIcons, plural, sessionRows, type Row } from './treeModel';

/**
 * How often the sidebar reads the group again while a view is shown: the other managers of a
 * group send this one no notifications.
 */
export const GROUP_REFRESH_MS = 3000;

/**
 * Whether the manager serves with others, or the group keeps sessions of a manager that died: the
 * sidebar then shows which manager each client is on.
 */
export function inGroup(group: InspectGroup | undefined): group is InspectGroup {
  return group !== undefined && (group.managers.length > 1 || (group.keptSessions?.length ?? 0) > 0);
}

/** The Clients view's roots: one row per manager of a group (this one first), or this manager's clients when it is alone. */
export function clientRootRows(snapshot: InspectSnapshot, group: InspectGroup | undefined, ownSessionId?: string): Row[] {
  if (!inGroup(group)) return sessionRows(snapshot, ownSessionId);
  const managers = group.managers.map((m): Row => {
    const clients = m.self ? snapshot.sessions.filter((s) => s.sessionId !== ownSessionId).length : m.sessions.length;
    return {
      id: `manager:${m.managerId}`,
      kind: 'manager' as const,
      label: m.self ? `${m.address} (this manager)` : m.address,
      description: [plural(clients, 'client'), `pid ${m.processId}`].join(' · '),
      tooltip: `manager ${m.managerId}\nat ${m.address}, version ${m.version}\nstarted ${new Date(m.startedAt).toISOString()}`,
      icon: 'server',
      contextValue: ContextValue.Manager,
      expandable: m.self || m.sessions.length > 0,
      managerId: m.managerId,
    };
  });
  const kept = group.keptSessions ?? [];
  if (kept.length === 0) return managers;
  return [
    ...managers,
    {
      id: 'kept-sessions',
      kind: 'keptSessions',
      label: 'Kept by the group',
      description: `${plural(kept.length, 'client')} · no manager`,
      tooltip: 'Resumable sessions whose manager died: the group keeps what they hold until a manager takes them over (their clients resuming) or their window passes',
      icon: 'cloud',
      contextValue: ContextValue.KeptSessions,
      expandable: true,
    },
  ];
}

/** The rows under "Kept by the group": each session the group keeps while no manager serves it, until when it can be resumed. */
export function keptSessionRows(group: InspectGroup): Row[] {
  return (group.keptSessions ?? []).map((s) => {
    const until = new Date(s.resumableUntil);
    const which = `session ${s.sessionId} of manager ${s.managerId}`;
    return {
      id: `kept-session:${s.managerId}:${s.sessionId}`,
      kind: 'keptSession',
      label: s.clientName || which,
      description: `no manager · resumable until ${until.toLocaleTimeString()}`,
      tooltip: `${which}, which is gone\nkept by the group, with what it holds, until ${until.toISOString()}: its client resuming through any manager takes it over; then it is given back`,
      icon: 'debug-disconnect',
      contextValue: ContextValue.KeptSession,
      expandable: false,
    };
  });
}

/**
 * The clients under a manager row. This manager's come from its snapshot and open onto what they
 * hold; another manager's are as it last published them, and do not open: what they hold is in
 * that manager.
 */
export function managerClientRows(snapshot: InspectSnapshot, group: InspectGroup, managerId: string, ownSessionId?: string): Row[] {
  const manager = group.managers.find((m) => m.managerId === managerId);
  if (!manager) return [];
  if (manager.self) return sessionRows(snapshot, ownSessionId);
  return sessionRows({ ...snapshot, sessions: manager.sessions }).map((row) => ({
    ...row,
    id: `remote-session:${managerId}:${row.sessionId}`,
    tooltip: `${row.tooltip}\non the manager at ${manager.address}`,
    contextValue: ContextValue.RemoteSession,
    expandable: false,
    sessionId: undefined,
  }));
}

/** The note an object row of a group gets when the object lives in this manager's process only (a user-registered class's). */
export function processNote(o: ObjectSummary, group: InspectGroup | undefined, address: string): string | undefined {
  if (!inGroup(group) || o.builtin !== undefined) return undefined;
  return `lives in the process of the manager at ${address}: clients of the group's other managers cannot reach it`;
}

/** Object rows with the group's notes added (see {@link processNote}). */
export function withGroupNotes(rows: Row[], snapshot: InspectSnapshot, group: InspectGroup | undefined): Row[] {
  if (!inGroup(group)) return rows;
  const byId = new Map(snapshot.objects.map((o) => [o.id, o]));
  return rows.map((row) => {
    const o = row.objectId === undefined ? undefined : byId.get(row.objectId);
    const note = o && processNote(o, group, snapshot.server.address);
    return note ? { ...row, description: [row.description, 'in this manager only'].filter(Boolean).join(' · '), tooltip: `${row.tooltip ?? ''}\n${note}` } : row;
  });
}

/** The group's objects that this manager has not served (no client of it has used them yet). */
function elsewhereObjects(snapshot: InspectSnapshot, group: InspectGroup): GroupObjectSummary[] {
  const here = new Set(snapshot.objects.map((o) => o.id));
  return group.objects.filter((o) => !here.has(o.id));
}

/**
 * The Objects view's last root in a group: "Elsewhere in the group", above the objects the group
 * shares that this manager has not served, so the view lists every object of the group. Undefined
 * for a manager alone, or when this manager has served them all.
 */
export function elsewhereRootRow(snapshot: InspectSnapshot, group: InspectGroup | undefined): Row | undefined {
  if (!inGroup(group)) return undefined;
  const count = elsewhereObjects(snapshot, group).length;
  if (count === 0) return undefined;
  return {
    id: 'elsewhere',
    kind: 'elsewhere',
    label: 'Elsewhere in the group',
    description: plural(count, 'object'),
    tooltip: "Objects the group's store keeps that no client of this manager has used yet, with the managers whose clients hold them",
    icon: 'cloud',
    contextValue: ContextValue.Elsewhere,
    expandable: true,
  };
}

/**
 * The rows under "Elsewhere in the group": each object with its type and the managers whose clients
 * hold it. One with contents (a queue, a dict, a Value...) opens onto them as this manager's own
 * objects do, read from the group's store (the view pages it as any object row); a lock's or an
 * event's state is in the summary of a manager that serves it, so such a row does not open.
 */
export function elsewhereRows(snapshot: InspectSnapshot, group: InspectGroup): Row[] {
  const addresses = new Map(group.managers.map((m) => [m.managerId, m.address]));
  return elsewhereObjects(snapshot, group).map((o) => {
    const holders = o.managers.map((id) => addresses.get(id) ?? `manager ${id} (gone)`);
    const heldBy = [...holders, ...(o.stored ? ['a stored value'] : [])];
    const contents = !isPrimitiveType(o.type);
    return {
      id: `group-object:${o.id}`,
      kind: 'groupObject',
      label: `${o.typeid} #${o.id}`,
      description: heldBy.length ? `held through ${heldBy.join(', ')}` : 'held by nobody',
      tooltip: `${o.type} #${o.id} (typeid ${o.typeid}), kept in the group's store\nheld through: ${heldBy.join(', ') || 'nobody'}\n${contents ? 'its contents are read from the store' : 'its state shows in the sidebar of a manager that serves it'}`,
      icon: builtinIcons[o.type] ?? 'symbol-object',
      contextValue: contents ? ContextValue.GroupContents : ContextValue.GroupObject,
      expandable: contents,
      objectId: o.id,
      typeid: o.typeid,
      builtin: o.type,
    };
  });
}
