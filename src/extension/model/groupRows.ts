/**
 * The sidebar's rows for a group of managers sharing one Redis store (SPEC 17.11): the Clients
 * view groups clients under their manager, and objects of user-registered classes say that they
 * live in this manager's process only. A manager alone (no group, or an older server) shows as
 * before.
 */

import type { InspectGroup, InspectSnapshot, ObjectSummary } from '../../common/protocol';
import { ContextValue } from '../ids';
import { plural, sessionRows, type Row } from './treeModel';

/** Whether the manager serves with others: the sidebar then shows which manager each client is on. */
export function inGroup(group: InspectGroup | undefined): group is InspectGroup {
  return group !== undefined && group.managers.length > 1;
}

/** The Clients view's roots: one row per manager of a group (this one first), or this manager's clients when it is alone. */
export function clientRootRows(snapshot: InspectSnapshot, group: InspectGroup | undefined, ownSessionId?: string): Row[] {
  if (!inGroup(group)) return sessionRows(snapshot, ownSessionId);
  return group.managers.map((m) => {
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
