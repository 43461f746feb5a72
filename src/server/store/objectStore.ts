/**
 * Where the built-in types keep their state: the store seam. The default store keeps every
 * object in this process's memory (the classes of `../builtins`); a Redis store keeps the types
 * it knows in Redis, so that several managers on one Redis share them. The manager asks its store
 * for the built-in types it registers and for the objects of `shared` registrations.
 */

import type { GroupManagerSummary, InspectGroup } from '../../common/protocol';
import { builtinTypes, type BuiltinType, type BuiltinTypeId } from '../builtins';
import type { CallContext } from '../calls/methodDispatch';
import type { RequestId } from '../calls/sessionCore';

/**
 * What a manager says of itself to its group; the rest of its summary the group's directory adds.
 * Defined here, not beside the Redis directory, so that the published type declarations of the
 * store seam name nothing of ioredis, which is bundled, not a dependency.
 */
export type ManagerDescription = Omit<GroupManagerSummary, 'managerId' | 'self' | 'publishedAt'>;

/** A store of built-in objects' state. */
export interface ObjectStore {
  /** Where the state lives, for messages: `memory`, or the store's URL and prefix. */
  readonly location: string;
  /** The built-in types as this store makes them, by SyncManager typeid. */
  readonly types: Readonly<Record<BuiltinTypeId, BuiltinType>>;
  /**
   * The one object a `shared` registration serves under `typeid`: with a shared store, every
   * manager registering the same typeid serves the same object.
   * @throws PyException for bad constructor arguments, as the type's constructor would.
   */
  sharedObject(typeid: string, type: BuiltinTypeId, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): object;
  /**
   * Connects, before the manager serves. `holdingsLost` is called if, while serving, the store
   * gave back what this manager's sessions held (a Redis store whose manager was cut off longer
   * than its lease): the manager must end those sessions.
   * @throws Error naming where it tried, when the store cannot be used.
   */
  open(holdingsLost?: () => void): Promise<void>;
  /** Lets go of the store's connections. */
  close(): Promise<void>;
  /** The objects this store shares with the other managers of a group (a Redis store); none in memory. */
  readonly group?: GroupObjects;
  /** The resumable sessions of a group: any of its managers can resume them (a Redis store); none in memory. */
  readonly sessions?: GroupSessions;
}

/**
 * Resumable sessions that any manager of a group can resume (SPEC 20.4.1): what such a session
 * holds outlives its manager for its resumption window, and another manager can take it over.
 */
export interface GroupSessions {
  /**
   * Session `sessionId` agreed on resumption with a window of `withinMs`; `tokenDigest` is its
   * resume token's digest, `agreed` what its initialize agreed on (JSON of the InitializeResult
   * without `sessionId`), `clientName` its client's name (inspection). Called before the session takes anything.
   */
  keep(sessionId: string, tokenDigest: string, withinMs: number, agreed: string, clientName?: string): void;
  /** Session `sessionId` now holds `count` references to `obj`, an object of this store (0: none). */
  referencesChanged(sessionId: string, obj: object, count: number): void;
  /** Whether session `sessionId` is a resumable one kept in the group (its calls' answers are kept there). */
  keeps(sessionId: string): boolean;
  /**
   * A call of session `sessionId` whose object does not record its answer in the group starts
   * (see `redisAnswers.ts`): it is marked as started, before any effect it has.
   */
  callStarted(sessionId: string, requestId: RequestId): void;
  /** The client of session `sessionId` counted the answers of these requests: the group forgets them. */
  answersSeen(sessionId: string, requestIds: readonly RequestId[]): void;
  /**
   * Session `sessionId`'s manager dropped the answers of these requests unacknowledged, past its
   * bound, up to answer number `upTo`: the group forgets them, and refuses a takeover by a client that lacks them.
   */
  answersDropped(sessionId: string, requestIds: readonly RequestId[], upTo: number): void;
  /** The answer a record of {@link AdoptedSession.answers} holds; `lost` for a call marked as started whose answer is unknown. */
  recordedAnswer(record: string): { value: unknown } | 'lost';
  /** Session `sessionId` ended for good (no-op for one not kept): whatever it still holds in the group goes back. */
  ended(sessionId: string): void;
  /**
   * Takes over, as this manager's session `sessionId`, the session of the group whose resume
   * token has digest `tokenDigest`, if the manager that kept it is gone and its window has not passed,
   * and its client, which counted `answersSeen` answers, lacks none the group dropped past its bound.
   * What it holds that this manager serves again (its deliveries, whose visibility timeouts run
   * here from now on) is held through `holder(objectId)`, a context of the session.
   * @throws SessionNotAdoptable
   */
  adopt(tokenDigest: string, sessionId: string, answersSeen: number, holder: (objectId: string) => CallContext): Promise<AdoptedSession>;
}

/** What another manager of the group takes a session over with (SPEC 20.4.1). */
export interface AdoptedSession {
  /** The session's resumption window, in ms. */
  readonly withinMs: number;
  /** What its `initialize` agreed on (its InitializeResult without `sessionId`), as JSON. */
  readonly agreed: string;
  /** The group objects it refers to (their ids), with its number of references to each. */
  readonly references: readonly (readonly [objectId: string, count: number])[];
  /** The answers kept in the group (see `redisAnswers.ts`), by request id as JSON: each as recorded. */
  readonly answers: ReadonlyMap<string, string>;
}

/** Why a session cannot be taken over: `keptBy` names the live manager that keeps it still. */
export class SessionNotAdoptable extends Error {
  constructor(
    message: string,
    readonly keptBy?: string,
  ) {
    super(message);
  }
}

/**
 * Objects a store shares across a group of managers: they carry a group-wide id (`r:…`, see
 * `objectTable.ts`'s `GLOBAL_ID`), so any manager of the group serves them by that id, and they
 * live while any manager refers to them.
 */
export interface GroupObjects {
  /** The typeid an object of this store was created under (undefined for another object). */
  typeidOf(obj: object): string | undefined;
  /**
   * The object a group-wide id names, made in this manager from what the store says of it;
   * undefined when the store knows no such object. Undefined at once (no promise) for an id that
   * is not a group-wide id. For `use` (a call, a reference) an object that only stored values
   * refer to any more is not served by id (SPEC 8.5); `inspection` reads it too, since a tool's
   * read takes nothing.
   */
  objectFor(id: string, purpose: 'use' | 'inspection'): Promise<object | undefined> | undefined;
  /**
   * Settles once every manager of the group can find `obj`, an object this manager just made (the
   * write that tells the group of it is acknowledged); undefined when they already can.
   */
  known(obj: object): Promise<void> | undefined;
  /** An object of this store entered this manager's table (`held`), or left it: the group counts its references. */
  referenced(obj: object, held: boolean): void;
  /** This manager's id in the group. */
  readonly managerId: string;
  /** Publishes what this manager shows of itself to the group while it serves, asking `describe` each time. */
  publishSelf(describe: () => ManagerDescription): void;
  /** What this manager shows of itself changed (a session came or went): published soon. */
  selfChanged(): void;
  /**
   * Every live manager of the group with its sessions, and the objects the group shares.
   * @throws PyException ConnectionError when the store cannot be reached.
   */
  view(): Promise<InspectGroup>;
}

/** The default store: every object in this process's memory, as the built-in classes keep it. */
export const memoryStore: ObjectStore = Object.freeze({
  location: 'memory',
  types: builtinTypes,
  sharedObject(_typeid: string, type: BuiltinTypeId, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): object {
    const create = builtinTypes[type].create;
    if (!create) throw new TypeError(`${type} objects come only from iteration; they cannot be shared as such`);
    return create(args, kwargs);
  },
  async open(): Promise<void> {},
  async close(): Promise<void> {},
});
