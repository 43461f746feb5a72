/**
 * The Redis store: the built-in types it knows keep their state in Redis, under one key prefix,
 * so that every manager on that Redis and prefix serves the same objects. ioredis is loaded only
 * when a Redis store is opened; the default in-memory store never touches it.
 *
 * Keys (all under `PREFIX:`): `version` (the store format this data is in; a manager refuses a
 * prefix holding another), `wake` (the channel changes are published on, see
 * {@link Wakeups}), `deliveries` (the counter delivery ids are drawn from, so that they are unique
 * across the group, see `redisDeliveries.ts`), and `o:NAME:…` for each object (with
 * `o:NAME:waited` while somebody waits on it): `NAME` is `shared:TYPEID` for a `shared`
 * registration (the same object on every manager registering it) and a random id for an object
 * a client created. Either is served by every manager of the group under the id `r:NAME` (see
 * `redisReferences.ts` for how an object a client created is found and counted across managers).
 */

import { createHash, randomUUID } from 'node:crypto';
import type { Command, Redis } from 'ioredis';
import { builtinTypes, type BuiltinType, type BuiltinTypeId } from '../builtins';
import { PyException } from '../exceptions';
import type { InspectGroup, Token } from '../../common/protocol';
import { GroupDirectory } from './redisGroupView';
import { GLOBAL_ID, globalIdOf } from '../objectTable';
import type { AdoptedSession, GroupObjects, GroupSessions, ManagerDescription, ObjectStore } from './objectStore';
import { GROUP_ID_PREFIX, REFERENCE_KIND, referenceKeys, STORED_MEMBER, type ObjectMeta, type ReferenceHost } from './redisReferences';
import { textToValue, valueToText } from './valueText';
import { redisBuiltinTypes, type RedisTypeFactory } from './redisTypes';
import type { RedisStoreAddress } from './storeUrl';
import { redisTlsOptions, type StoreTlsOptions } from './storeTls';
import { Wakeups } from './redisWakeups';
import { StoredReferences, type GroupTokens } from './storedReferences';
import { STORE_SCRIPTS, type ScriptName, type StoreScript } from './redisScripts';
import { DEFAULT_LEASE_MS, heldEntry, holderOf, leaseKey, ManagerLease, ownerIdIn } from './redisLeases';
import { isSessionLease, SessionLeases, sessionLeaseId } from './redisSessions';
import { reclaimers, withdrawers } from './redisReclaimers';
import { DELIVERY_KIND } from './redisDeliveries';
import { LOCK_HOLDING } from './redisLocks';
import { SEMAPHORE_HOLDING } from './redisSemaphores';
import type { CallContext } from '../calls/methodDispatch';
import { ready, ScriptFrames, scriptFrameHead, ScriptNotSent, type FramedScript } from './redisScriptFrames';
import { BATCH_SCRIPT, batchedScripts, type BatchedScript } from './redisScriptBatch';
import { AnsweredInGroup, NO_RECORD, recordedAnswer, type AnswerRecord, type AnswerRecords } from './redisAnswers';
import { readAtOnce } from './redisReadAtOnce';
import type { RequestId } from '../calls/sessionCore';
import { GiveBacks } from './redisGiveBacks';

/**
 * The format of the data this version writes; a prefix holding another format is refused. 2: a
 * queue's items given back carry their place in the take order (`#COUNT.PLACE TEXT`), which a
 * manager writing format 1 would read as part of the item.
 */
export const STORE_FORMAT = 'syncmanager-store/2';

/** How many times a repeatable script whose reply was lost is made again while its replies are lost (see `RedisStore.#madeAgain`). */
const MADE_AGAIN_TRIES = 5;

/** How long the first connection may take before the manager refuses to start. */
const CONNECT_TIMEOUT_MS = 5000;

/** A script as the store sends it: its text (EVAL sends it when Redis lacks it), SHA1, number of keys, frame head, how a batch carries it, where and when its call's answer is recorded, and whether it has any effect. */
interface StoreScriptSent extends FramedScript, Pick<StoreScript, 'answerAt' | 'records' | 'effect' | 'repeatable'> {
  readonly name: ScriptName | 'batch';
  readonly text: string;
}

/** A script's text, SHA1 (what EVALSHA names it by) and frame head. */
function scriptSent(name: ScriptName | 'batch', text: string, keys: number, batched?: BatchedScript, script?: StoreScript): StoreScriptSent {
  const sha = createHash('sha1').update(text).digest('hex');
  return { name, text, sha, keys, head: scriptFrameHead(sha, keys), batched, answerAt: script?.answerAt, records: script?.records, effect: script?.effect, repeatable: script?.repeatable };
}

/** Each script as sent, by name. */
const SCRIPTS = Object.fromEntries(
  Object.entries(STORE_SCRIPTS).map(([name, script]: [string, StoreScript]) => [name, scriptSent(name as ScriptName, script.text, script.keys, batchedScripts[name as ScriptName], script)]),
) as Record<ScriptName, StoreScriptSent>;

/** The script that carries several calls in one (`redisScriptBatch.ts`). */
const BATCH = scriptSent('batch', BATCH_SCRIPT.text, BATCH_SCRIPT.keys);

/** What a Redis-backed object needs from its store. */
export interface RedisObjectHost extends AnswerRecords {
  /** The key prefix of an object named `name` (see the module comment). */
  keyOf(name: string): string;
  /**
   * Runs one of the store's scripts atomically; its promise settles with what `read` makes of
   * the reply (the reply itself without `read`; `read` may throw, failing the call).
   * @throws PyException ConnectionError when Redis cannot be reached.
   */
  run<T = unknown>(script: ScriptName, keys: readonly string[], args: readonly (string | number)[], read?: (reply: unknown) => T): Promise<T>;
  /** The channel changes are published on (scripts PUBLISH the changed object's key there). */
  readonly channel: string;
  /** This manager's callers waiting on Redis-backed objects. */
  readonly wakeups: Wakeups;
  /** How references to shared objects inside stored values are stored and read back. */
  readonly refs: StoredReferences;
  /** This manager's id in the group of managers sharing the prefix (see `redisLeases.ts`). */
  readonly managerId: string;
  /**
   * The key of the held index of owner `ownerId` (its manager's, or a resumable session's own, see
   * `redisSessions.ts`): a script granting the owner a holding (a lock, permits, a delivery) adds
   * `heldEntry(kind, objectKey)` to it in the same script. Any other id: this manager's.
   */
  heldIndexOf(ownerId: string): string;
  /** The owner id, in Redis, of this manager's session `sessionId`: global across the group. */
  ownerId(sessionId: string): string;
  /**
   * What a give-back of owner `ownerId`'s holdings at its session's end here passes its script, so
   * that it is not made when another manager hosts that session now (see
   * `unlessOwnerHostedElsewhere`): the session lease's key and this manager's id for a resumable
   * session's owner; '' twice (no check) for any other.
   */
  hostCheck(ownerId: string): [lease: string, managerId: string];
  /** The session of this manager an owner id names, if it names one of them (the inverse of {@link ownerId}). */
  sessionOf(ownerId: string): string | undefined;
  /** The key of the counter delivery ids are drawn from (acknowledged gets, SPEC 20.3). */
  readonly deliveryIdsKey: string;
  /**
   * Gives back `what` (taken by a call whose answer never reached its caller; the deliveries a
   * session held when it ended; a delivery whose visibility timeout passed), by `make` (which
   * Redis must make once however often it is asked to): kept and made again, in order, while
   * Redis is away or refuses for now (see `redisGiveBacks.ts`). `record`: the answer record of
   * the call that took it, whose session another manager may have taken over; `make` passes its
   * script the give-back record it is given (that record and this manager's id: see
   * `unlessHostedElsewhere`), and resolves false when the script made nothing for that reason.
   */
  giveBack(what: string, make: (giveBackRecord: AnswerRecord) => Promise<boolean>, record: AnswerRecord): void;
  /**
   * The error of a call that failed with `error` after one of its steps had an effect (a
   * Condition's wait freed the lock, a Barrier's arrival was counted): one saying the call was
   * not carried out (a later step never sent, or one with no effect whose reply was lost, see
   * `StoreScript.effect`) says its effect is unknown instead; any other error as it is.
   */
  afterAnEffect(error: unknown): unknown;
}

/**
 * The errors Redis refuses a command with for now, and will not once past them: a replica after a
 * failover (READONLY, MASTERDOWN), out of memory under maxmemory (OOM), a long script running
 * (BUSY), loading its data at start (LOADING), writes stopped after a failed snapshot (MISCONF),
 * too few replicas (NOREPLICAS), a cluster moving (TRYAGAIN, CLUSTERDOWN).
 */
const FOR_NOW = /^(READONLY|MASTERDOWN|OOM|BUSY|LOADING|MISCONF|NOREPLICAS|TRYAGAIN|CLUSTERDOWN)\b/;

/** The errors of calls Redis refused for now (see {@link FOR_NOW}): not carried out, and may be made again later. */
const refusedForNow = new WeakSet<Error>();

/** The errors saying a call was not carried out (Redis could not be used), with why: what the call says instead after an earlier step had an effect. */
const notCarriedOut = new WeakMap<Error, string>();

/**
 * An object of the store where a session can hold something past its call (a queue's deliveries,
 * a lock, permits): a session taken over from a manager that is gone holds it here from now on
 * (SPEC 20.4.1), through `context`, if it holds it in Redis.
 */
export interface TakenOver {
  takenOver(context: CallContext): Promise<void>;
}

/** A page of a Redis-backed object's contents, as inspection's peek shows it. */
export interface PeekPage {
  readonly kind: 'items' | 'entries' | 'attributes' | 'value';
  readonly total: number;
  readonly items: unknown[];
}

/** A store keeping the built-in types it knows in Redis (the others stay in this process, see README). */
export class RedisStore implements ObjectStore, RedisObjectHost, GroupObjects, GroupTokens, ReferenceHost, GroupSessions {
  readonly location: string;
  readonly types: Readonly<Record<BuiltinTypeId, BuiltinType>>;
  readonly channel: string;
  readonly wakeups = new Wakeups({
    mark: async (key, ms) => {
      await this.#commands()
        .set(key, '1', 'PX', ms)
        .catch((error: Error) => Promise.reject(this.#unavailable(error.message)));
    },
    renew: async (keys, ms) => {
      const renewed = await this.#commands()
        .pipeline(keys.map((key) => ['pexpire', key, ms]))
        .exec();
      return keys.map((_, i) => renewed?.[i]?.[0] === null && renewed[i][1] === 1);
    },
  });
  readonly refs: StoredReferences;
  #client: Redis | undefined;
  /** ioredis's command class (the module is loaded by {@link RedisStore.open}). */
  #Command: typeof Command | undefined;
  /** The scripts of this turn, sent on the commands connection together at its end. */
  #frames: ScriptFrames | undefined;
  #subscriber: Redis | undefined;
  #opened = false;
  #closed = false;
  /** Whether this turn's commands are being held to go out in one write (see {@link RedisStore.run}). */
  #corked = false;
  /** The objects of this store alive in this manager, by name: one object per name, however it came. */
  readonly #live = new Map<string, WeakRef<object>>();
  readonly #gone = new FinalizationRegistry<string>((name) => {
    if (!this.#live.get(name)?.deref()) this.#live.delete(name);
  });
  /** The name and meta of each object a client created (through any manager), as this manager made it. */
  readonly #made = new WeakMap<object, { readonly name: string; readonly meta: ObjectMeta }>();
  /** Objects made here whose meta is on its way to Redis: the write other managers find them by. */
  readonly #announcing = new WeakMap<object, Promise<void>>();
  /** Objects a stored value refers to, pinned in Redis already. */
  readonly #pinned = new WeakSet<object>();
  readonly group: GroupObjects = this;
  readonly sessions: GroupSessions = this;
  readonly #factories: Readonly<Partial<Record<BuiltinTypeId, RedisTypeFactory>>>;
  readonly #lease: ManagerLease;
  readonly #directory: GroupDirectory;
  readonly #sessionLeases: SessionLeases;
  readonly #giveBacks: GiveBacks;

  constructor(
    private readonly address: RedisStoreAddress,
    private readonly prefix: string,
    private readonly log: (message: string) => void = () => {},
    /** How long this manager's holdings outlive it if it dies (ms): its lease. */
    leaseMs: number = DEFAULT_LEASE_MS,
    /** With a `rediss://` address: the CA to trust and the client certificate, when not Node's defaults. */
    private readonly tls?: StoreTlsOptions,
  ) {
    this.#lease = new ManagerLease(prefix, leaseMs, reclaimers, log);
    this.#directory = new GroupDirectory(prefix, this.#lease.managerId, leaseMs);
    this.#sessionLeases = new SessionLeases(prefix, this.#lease.managerId, leaseMs, () => this.#client, log);
    this.location = `${address.shown} (prefix ${prefix})`;
    this.channel = `${prefix}:wake`;
    this.refs = new StoredReferences(this.location, this);
    this.#giveBacks = new GiveBacks(log, () => this.#client !== undefined && ready(this.#client), (error) => error instanceof Error && refusedForNow.has(error));
    this.#factories = redisBuiltinTypes;
    const types: Record<string, BuiltinType> = Object.create(null);
    for (const [typeid, builtin] of Object.entries(builtinTypes) as [BuiltinTypeId, BuiltinType][]) {
      const factory = this.#factories[typeid];
      types[typeid] = factory ? { type: factory.type, create: (args, kwargs) => this.#create(typeid, factory, args, kwargs) } : builtin;
    }
    this.types = Object.freeze(types) as Record<BuiltinTypeId, BuiltinType>;
  }

  /** Which typeids keep their state in Redis (the others in this process). */
  get redisTypeids(): BuiltinTypeId[] {
    return Object.keys(this.#factories) as BuiltinTypeId[];
  }

  sharedObject(typeid: string, type: BuiltinTypeId, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): object {
    const factory = this.#factories[type];
    if (factory) return this.#adopt(factory.create(this, `shared:${typeid}`, args, kwargs), `shared:${typeid}`);
    const create = builtinTypes[type].create;
    if (!create) throw new TypeError(`${type} objects come only from iteration; they cannot be shared as such`);
    return create(args, kwargs);
  }

  /** An object a client created: a new name, and the meta another manager serves it from. */
  #create(type: BuiltinTypeId, factory: RedisTypeFactory, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): object {
    const name = randomUUID();
    const obj = factory.create(this, name, args, kwargs);
    const meta: ObjectMeta = { typeid: type, type, args: valueToText([args, kwargs], this.refs) };
    // Sent before anything naming the object can be (commands on one connection run in order);
    // its creator is answered once it is written, so the id works through any manager at once.
    const written = this.#client?.set(referenceKeys(this.keyOf(name))[0], JSON.stringify(meta));
    if (written) {
      const known = written.then(
        () => void this.#announcing.delete(obj),
        (error: Error) => {
          this.#announcing.delete(obj);
          this.log(`Redis store: writing what the group knows of ${name} failed (${error.message}); other managers cannot serve it`);
        },
      );
      this.#announcing.set(obj, known);
    }
    this.#made.set(obj, { name, meta });
    return this.#adopt(obj, name);
  }

  /** Gives an object of this store its group-wide id, and makes it the one object of its name here. */
  #adopt(obj: object, name: string): object {
    Object.defineProperty(obj, GLOBAL_ID, { value: `${GROUP_ID_PREFIX}${name}` });
    this.#live.set(name, new WeakRef(obj));
    this.#gone.register(obj, name);
    return obj;
  }

  /** An object a client created through some manager of the group, made here from its meta. */
  #materialise(name: string, meta: ObjectMeta): object {
    const live = this.#live.get(name)?.deref();
    if (live) return live;
    const factory = this.#factories[meta.type];
    if (!factory) throw new PyException('RuntimeError', `the Redis store at ${this.location} holds an object of type ${JSON.stringify(meta.type)}, which this manager does not keep in Redis`);
    const [args, kwargs] = textToValue(meta.args, this.refs) as [unknown[], Record<string, unknown>];
    const obj = factory.create(this, name, args, kwargs);
    this.#made.set(obj, { name, meta });
    return this.#adopt(obj, name);
  }

  isGroupId(id: string): boolean {
    return id.startsWith(GROUP_ID_PREFIX);
  }

  known(obj: object): Promise<void> | undefined {
    return this.#announcing.get(obj);
  }

  typeidOf(obj: object): string | undefined {
    return this.#made.get(obj)?.meta.typeid;
  }

  objectFor(id: string, purpose: 'use' | 'inspection'): Promise<object | undefined> | undefined {
    if (!this.isGroupId(id)) return undefined;
    const name = id.slice(GROUP_ID_PREFIX.length);
    // A `shared` registration's object is this manager's own, or none: nothing to read.
    if (name.startsWith('shared:')) return Promise.resolve(undefined);
    // Read even when this manager still has the object in memory: the group may have let it go since.
    return (async () => {
      const client = this.#commands();
      const [metaKey, refsKey] = referenceKeys(this.keyOf(name));
      let found: [error: Error | null, result: unknown][] | null;
      try {
        found = await client.multi().get(metaKey).smembers(refsKey).exec();
      } catch (error) {
        throw this.#unavailable((error as Error).message);
      }
      const text = found?.[0]?.[1] as string | null | undefined;
      const holders = (found?.[1]?.[1] as string[] | undefined) ?? [];
      // Served by id while some manager's table holds it (or its creator's first reference is on
      // its way: no member yet); once every manager let go of it, as an object leaves one table
      // with its last reference (SPEC 8.5), only a stored value that refers to it reads it back,
      // and inspection, which takes nothing, shows it.
      const onlyStored = holders.length > 0 && holders.every((member) => member === STORED_MEMBER);
      if (!text || (onlyStored && purpose === 'use')) return undefined;
      return this.#materialise(name, JSON.parse(text) as ObjectMeta);
    })();
  }

  referenced(obj: object, held: boolean): void {
    const made = this.#made.get(obj);
    // A `shared` registration's object lives as long as the group: it is not counted.
    if (!made) return;
    const key = this.keyOf(made.name);
    const entry = heldEntry(REFERENCE_KIND, key);
    const done = held ? this.run('smRefHold', [referenceKeys(key)[1], this.heldIndexKey], [this.managerId, entry]) : this.dropReference(key, this.managerId, entry);
    done.catch((error: Error) => this.log(`Redis store: counting a reference to ${key} failed (${error.message}); a survivor drops it once this manager's lease runs out`));
  }

  async dropReference(objectKey: string, member: string, held: string): Promise<void> {
    const [metaKey, refsKey] = referenceKeys(objectKey);
    const name = objectKey.slice(this.keyOf('').length);
    const live = this.#live.get(name)?.deref();
    let type = live && this.#made.get(live)?.meta.type;
    if (!type) {
      const text = await this.#client?.get(metaKey);
      type = text ? (JSON.parse(text) as ObjectMeta).type : undefined;
    }
    const keys = (type && this.#factories[type]?.keys(this, name)) || [];
    await this.run('smRefDrop', [refsKey, this.#lease.heldIndexOf(member), metaKey], [member, held, ...keys]);
  }

  publishSelf(describe: () => ManagerDescription): void {
    if (this.#client) this.#directory.start(this.#client, describe);
  }

  selfChanged(): void {
    this.#directory.changed(this.#client);
  }

  async view(): Promise<InspectGroup> {
    const client = this.#commands();
    try {
      return await this.#directory.view(client);
    } catch (error) {
      throw this.#unavailable((error as Error).message);
    }
  }

  storedToken(obj: object): Token | undefined {
    const id = globalIdOf(obj);
    if (id === undefined) return undefined;
    const made = this.#made.get(obj);
    if (made && !this.#pinned.has(obj)) {
      // A stored value refers to it: it lives as long as the store (sent before the value is written).
      this.#pinned.add(obj);
      this.run('smRefHold', [referenceKeys(this.keyOf(made.name))[1], this.heldIndexKey], [STORED_MEMBER, '']).catch(() => this.#pinned.delete(obj));
    }
    return Object.assign({ id, typeid: made?.meta.typeid ?? '', exposed: [] }, made && { meta: made.meta });
  }

  fromStoredToken(token: Token): object | undefined {
    const name = token.id.slice(GROUP_ID_PREFIX.length);
    const meta = (token as Token & { meta?: ObjectMeta }).meta;
    return this.#live.get(name)?.deref() ?? (meta ? this.#materialise(name, meta) : undefined);
  }

  get managerId(): string {
    return this.#lease.managerId;
  }

  /** The key of this manager's own held index. */
  get heldIndexKey(): string {
    return this.#lease.heldIndexKey;
  }

  heldIndexOf(ownerId: string): string {
    return ownerId.includes('/') ? this.#lease.heldIndexOf(holderOf(ownerId)) : this.#lease.heldIndexKey;
  }

  ownerId(sessionId: string): string {
    return this.#sessionLeases.ownerOf(sessionId) ?? ownerIdIn(this.#lease.managerId, sessionId);
  }

  hostCheck(ownerId: string): [lease: string, managerId: string] {
    const holder = holderOf(ownerId);
    return isSessionLease(holder) ? [leaseKey(this.prefix, holder), this.managerId] : ['', ''];
  }

  sessionOf(ownerId: string): string | undefined {
    const mine = `${this.#lease.managerId}/`;
    return ownerId.startsWith(mine) ? ownerId.slice(mine.length) : this.#sessionLeases.sessionOf(ownerId);
  }

  answerRecord(context: CallContext): AnswerRecord {
    return context.sessionId === undefined || context.requestId === undefined ? NO_RECORD : this.#sessionLeases.answerRecord(context.sessionId, context.requestId);
  }

  recordedAnswer(record: string): { value: unknown } | 'lost' {
    return recordedAnswer(record, this.refs);
  }

  keeps(sessionId: string): boolean {
    return this.#sessionLeases.keeps(sessionId);
  }

  callStarted(sessionId: string, requestId: RequestId): void {
    this.#sessionLeases.started(sessionId, requestId);
  }

  answersSeen(sessionId: string, requestIds: readonly RequestId[]): void {
    this.#sessionLeases.answersSeen(sessionId, requestIds);
  }

  answersDropped(sessionId: string, requestIds: readonly RequestId[], upTo: number): void {
    this.#sessionLeases.answersDropped(sessionId, requestIds, upTo);
  }

  keep(sessionId: string, tokenDigest: string, withinMs: number, agreed: string, clientName?: string): void {
    this.#sessionLeases.keep(sessionId, tokenDigest, withinMs, agreed, clientName);
  }

  referencesChanged(sessionId: string, obj: object, count: number): void {
    const id = globalIdOf(obj);
    const made = this.#made.get(obj);
    if (id !== undefined) this.#sessionLeases.referencesChanged(sessionId, id, made && this.keyOf(made.name), count);
  }

  ended(sessionId: string): void {
    this.#sessionLeases.ended(sessionId, async (leaseId) => {
      if (this.#client) await this.#lease.reap(this.#client, this, leaseId);
    });
  }

  async adopt(tokenDigest: string, sessionId: string, answersSeen: number, holder: (objectId: string) => CallContext): Promise<AdoptedSession> {
    const adopted = await this.#sessionLeases.adopt(tokenDigest, sessionId, answersSeen);
    const leaseId = sessionLeaseId(tokenDigest);
    // The calls the session had waiting died with its old manager: what they waited for goes to others.
    await this.#lease.visit(this.#commands(), this, leaseId, withdrawers);
    // What it holds is held by its session here from now on (inspection lists it; a delivery's visibility timeout runs here).
    const held = async (_host: RedisObjectHost, objectKey: string): Promise<void> => {
      const name = objectKey.slice(this.keyOf('').length);
      const obj = this.#live.get(name)?.deref() ?? (name.startsWith('shared:') ? undefined : await this.objectFor(`${GROUP_ID_PREFIX}${name}`, 'use'));
      await (obj as Partial<TakenOver> | undefined)?.takenOver?.(holder(`${GROUP_ID_PREFIX}${name}`));
    };
    await this.#lease.visit(this.#commands(), this, leaseId, { [DELIVERY_KIND]: held, [LOCK_HOLDING]: held, [SEMAPHORE_HOLDING]: held });
    return adopted;
  }

  giveBack(what: string, make: (giveBackRecord: AnswerRecord) => Promise<boolean>, record: AnswerRecord): void {
    // A resumable session's call: its give-back is made only if no other manager hosts the session now (checked in its script).
    const giveBackRecord = record.length > 0 ? [...record, this.managerId] : record;
    this.#giveBacks.add(what, async () => {
      if (!(await make(giveBackRecord))) this.log(`Redis store: ${what} is not given back: another manager took its session over, and its session has it there (answered from its record, or held)`);
    });
  }

  afterAnEffect(error: unknown): unknown {
    const reason = error instanceof Error ? notCarriedOut.get(error) : undefined;
    return reason === undefined ? error : this.#effectUnknown(reason);
  }

  get deliveryIdsKey(): string {
    return `${this.prefix}:deliveries`;
  }

  /** Gives back, at once, the holdings of every manager whose lease ran out (it runs by itself every half lease). */
  async reapDeadManagers(): Promise<void> {
    if (this.#client) await this.#lease.reapOnce(this.#client, this);
  }

  keyOf(name: string): string {
    return `${this.prefix}:o:${name}`;
  }

  async open(holdingsLost?: () => void): Promise<void> {
    if (this.#opened) return;
    // Loaded here, and only here: a manager without a Redis store never loads the client library.
    const { Redis, Command } = await import('ioredis');
    const options = {
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Calls fail at once while Redis is away, rather than queueing without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Once serving, reconnect for ever (bounded backoff); at start, one try: refuse to start instead.
      retryStrategy: (times: number) => (this.#opened && !this.#closed ? Math.min(50 * 2 ** Math.min(times, 6), 2000) : null),
      ...(this.address.tls ? { tls: redisTlsOptions(this.tls) } : {}),
    };
    const client = new Redis(this.address.url, options);
    // Subscribed again by the 'ready' handler below, not by ioredis: its own resubscription leaves the
    // SUBSCRIBE's promise unhandled, so a connection lost again before Redis answered it (a Redis that
    // flaps) ended the manager's process with an unhandled rejection.
    const subscriber = new Redis(this.address.url, { ...options, autoResubscribe: false });
    /** Why a connection failed before the store opened: ioredis's connect() says only "Connection is closed". */
    let whyNot: Error | undefined;
    for (const [which, c] of [['commands', client], ['wake-ups', subscriber]] as const) {
      let lost = false;
      c.on('error', (error: Error) => {
        if (!this.#opened) whyNot ??= error;
        if (this.#opened && !lost) this.log(`Redis store at ${this.location} (${which}): ${error.message}; reconnecting`);
        lost = true;
      });
      // Each connection (a reconnection makes a new one): replies reach the parser as they are read.
      c.on('connect', () => readAtOnce(c.stream));
      c.on('ready', () => {
        if (lost && this.#opened) this.log(`Redis store at ${this.location} (${which}): connected again`);
        lost = false;
        if (c === subscriber) {
          // Changes published while the subscription was away were missed: once it is back, every
          // waiter tries again. Lost again before Redis answered, the next 'ready' subscribes anew.
          // (The first subscription is open()'s.)
          if (this.#opened) subscriber.subscribe(this.channel).then(() => this.wakeups.all(), () => {});
        }
        else {
          // Loaded before any script is sent (this runs as the connection becomes ready): so a
          // script meeting Redis without it (NOSCRIPT, then EVAL) is rare, and cannot fall behind
          // a script called after it.
          for (const { text } of [...Object.values(SCRIPTS), BATCH]) c.script('LOAD', text).catch(() => {});
          // What could not be given back while Redis was away is given back now, before anything later.
          if (this.#opened) this.#giveBacks.retry();
        }
      });
    }
    try {
      await client.connect();
      await subscriber.connect();
    } catch (error) {
      client.disconnect();
      subscriber.disconnect();
      const message = (error as Error).message || String(error);
      throw new Error(`cannot reach the Redis store at ${this.address.shown}: ${whyNot && whyNot.message !== message ? `${whyNot.message} (${message})` : message}`);
    }
    try {
      await this.#checkFormat(client);
      subscriber.on('message', (channel: string, key: string) => {
        if (channel === this.channel) this.wakeups.changed(key);
      });
      await subscriber.subscribe(this.channel);
    } catch (error) {
      client.disconnect();
      subscriber.disconnect();
      throw error;
    }
    this.#client = client;
    this.#Command = Command;
    this.#frames = new ScriptFrames(client, (script, keys, args, error) => this.#failed(script as StoreScriptSent, keys, args, error), BATCH.sha, () => void client.script('LOAD', BATCH.text).catch(() => {}));
    this.#subscriber = subscriber;
    this.#opened = true;
    this.#sessionLeases.start();
    try {
      await this.#lease.start(client, this, () => {
        // Before the sessions end: what the resumable ones hold stays theirs in the group.
        this.#sessionLeases.letGoAll();
        holdingsLost?.();
      });
    } catch (error) {
      await this.close();
      throw new Error(`cannot take a lease in the Redis store at ${this.location}: ${(error as Error).message}`);
    }
  }

  /** Claims the prefix for this store format, or refuses one that holds another's data. */
  async #checkFormat(client: Redis): Promise<void> {
    const key = `${this.prefix}:version`;
    await client.set(key, STORE_FORMAT, 'NX');
    const found = await client.get(key);
    if (found !== STORE_FORMAT) {
      throw new Error(
        `the Redis store at ${this.location} holds data in format ${JSON.stringify(found)}, and this manager writes ${JSON.stringify(STORE_FORMAT)}: ` +
          'refusing to mix them; use another --store-prefix, or delete the old keys',
      );
    }
  }

  async close(): Promise<void> {
    // Before anything stops: give-backs still kept get a last, bounded, chance (the connection reconnects meanwhile).
    if (this.#opened && !this.#closed) await this.#giveBacks.drain();
    this.#closed = true;
    this.wakeups.stop();
    this.#giveBacks.stop();
    this.#sessionLeases.stop();
    await this.#sessionLeases.drain();
    await this.#directory.stop(this.#client);
    await this.#lease.stop(this.#client, this);
    const clients = [this.#client, this.#subscriber];
    this.#client = this.#subscriber = undefined;
    await Promise.all(clients.map(async (c) => c?.quit().catch(() => c.disconnect())));
  }

  /** The commands connection. @throws PyException ConnectionError before the store is open or once it is closed. */
  #commands(): Redis {
    if (!this.#client) throw this.#unavailable(this.#closed ? 'the store is closed' : 'the store is not open yet');
    return this.#client;
  }

  run<T = unknown>(script: ScriptName, keys: readonly string[], args: readonly (string | number)[], read?: (reply: unknown) => T): Promise<T> {
    const sent = SCRIPTS[script];
    // The usual way: with the calls of this turn, a failure handled only when there is one.
    const framed = this.#client && this.#frames!.send(sent, keys, args, read);
    if (framed) return framed as Promise<T>;
    const reply = this.#runAsCommand(sent, keys, args);
    return (read ? reply.then(read) : reply) as Promise<T>;
  }

  /** A script call sent as an ioredis command: while the connection is not ready (refused then), or before the store is open. */
  async #runAsCommand(sent: StoreScriptSent, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const client = this.#commands();
    try {
      return await this.#script(client, 'evalsha', sent.sha, sent.keys, keys, args);
    } catch (error) {
      return this.#failed(sent, keys, args, error as Error);
    }
  }

  /**
   * What a script call that failed with `error` answers: a script Redis lacks (not loaded on this
   * Redis yet, or any more: it restarted, or was flushed) is sent again with EVAL, which runs and
   * loads it; any other failure is the store's error (see {@link RedisStore.#refusal}), or, its
   * reply lost, what its answer record says (see {@link RedisStore.#recorded}).
   */
  #failed(sent: StoreScriptSent, keys: readonly string[], args: readonly (string | number)[], error: Error): Promise<unknown> {
    const client = this.#client;
    const refused = (why: Error): Promise<unknown> => {
      const at = sent.answerAt;
      const lost = !(why instanceof ScriptNotSent) && why.name !== 'ReplyError';
      // Sent, its reply lost, a call whose script records its answer: the record tells what happened.
      if (lost && at !== undefined && args[at - 1] !== undefined && (sent.records?.(args) ?? true)) return this.#recorded(String(args[at - 1]), String(args[at]), why);
      // One that answers as it did when made again: made again.
      if (lost && sent.repeatable?.(args)) return this.#madeAgain(sent, keys, args, why);
      return Promise.reject(this.#refusal(sent, why));
    };
    if (client && error.name === 'ReplyError' && error.message.startsWith('NOSCRIPT')) return this.#script(client, 'eval', sent.text, sent.keys, keys, args).catch(refused);
    return refused(error);
  }

  /**
   * The error of a call of `script` that failed with `error`: refused by Redis, not sent (not
   * carried out), or sent and its reply lost (its effect unknown; not carried out for a script
   * with no effect, see `StoreScript.effect`).
   */
  #refusal(script: StoreScriptSent, error: Error): PyException {
    // Redis answered with an error: a script met data it did not expect (a key of another type), or Redis refuses for now.
    if (error.name === 'ReplyError') {
      const refused = new PyException('RuntimeError', `the Redis store at ${this.location} refused ${script.name}: ${error.message}`);
      if (FOR_NOW.test(error.message)) refusedForNow.add(refused);
      return refused;
    }
    if (error instanceof ScriptNotSent || script.effect === 'none') return this.#unavailable(error.message);
    return this.#effectUnknown(error.message);
  }

  /**
   * What a call whose reply was lost (`lost`) answers, its script recording its answer in the
   * session's answers hash `key`, field `field`, whenever it has an effect, in the same atomic
   * step: once Redis is back, the recorded answer (AnsweredInGroup, which the call answers with),
   * or, with no record, the script did not run (or ran with no effect: a get of an empty queue):
   * not carried out. The wait lasts at most the
   * manager's lease: within it the record is surely still there (the hash lasts a lease and the
   * session's window past its last write), and a manager away from Redis longer loses its lease,
   * and its sessions with it, anyway. Redis still away then: the effect is unknown.
   */
  async #recorded(key: string, field: string, lost: Error): Promise<never> {
    const client = await this.#readyAgain(this.#lease.leaseMs);
    let text: string | null;
    try {
      if (!client) throw lost;
      text = await client.hget(key, field);
    } catch (error) {
      throw this.#effectUnknown((error as Error).message);
    }
    if (text === null) throw this.#unavailable(`${lost.message}; Redis holds no record of an effect of the call`);
    const answer = this.recordedAnswer(text);
    if (answer === 'lost') throw this.#effectUnknown(lost.message);
    throw new AnsweredInGroup(answer.value);
  }

  /**
   * What a call of a repeatable script (see `StoreScript.repeatable`) whose reply was lost (`lost`)
   * answers: its reply when made again once Redis is back, within the manager's lease (a manager
   * away longer has lost its sessions anyway), tried again while its replies are lost. Redis still
   * away then, or refusing it: its effect is unknown (the first may have run).
   */
  async #madeAgain(sent: StoreScriptSent, keys: readonly string[], args: readonly (string | number)[], lost: Error): Promise<unknown> {
    const deadline = Date.now() + this.#lease.leaseMs;
    for (let tries = 0; tries < MADE_AGAIN_TRIES; tries++) {
      const client = await this.#readyAgain(Math.max(0, deadline - Date.now()));
      if (!client) break;
      try {
        // EVAL: the script whose reply was lost may be one Redis lacks now (it restarted).
        return await this.#script(client, 'eval', sent.text, sent.keys, keys, args);
      } catch (error) {
        lost = error as Error;
        if (lost.name === 'ReplyError') break;
      }
    }
    throw this.#effectUnknown(lost.message);
  }

  /** The commands connection once it is ready (at once if it is), or undefined if it is not within `ms` (or the store closes). */
  #readyAgain(ms: number): Promise<Redis | undefined> {
    const client = this.#client;
    if (!client || this.#closed) return Promise.resolve(undefined);
    if (ready(client)) return Promise.resolve(client);
    return new Promise((resolve) => {
      const done = (back: boolean) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('end', onEnd);
        resolve(back ? client : undefined);
      };
      const onReady = () => done(true);
      const onEnd = () => done(false);
      const timer = setTimeout(onEnd, ms);
      client.on('ready', onReady);
      client.on('end', onEnd);
    });
  }

  /**
   * Sends one EVALSHA or EVAL as an ioredis command (while the connection is not ready, or to
   * load a script Redis lacks; see `redisScriptFrames.ts` for the usual way).
   */
  #script(client: Redis, command: 'evalsha' | 'eval', script: string, keyCount: number, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    // Not written: refused as a frame is (ioredis would refuse it too, with an error that does not say so).
    if (!ready(client)) return Promise.reject(new ScriptNotSent());
    this.#batchWrites(client);
    const argv: (string | number)[] = [script, keyCount];
    for (const key of keys) argv.push(key);
    for (const arg of args) argv.push(arg);
    return client.sendCommand(new this.#Command!(command, argv, { replyEncoding: 'utf8' })) as Promise<unknown>;
  }

  /**
   * Holds this turn's commands to Redis and sends them in one write at its end: ioredis writes
   * each command to the socket at once, and a write is most of what a call costs the manager,
   * so calls arriving together (many in flight) would otherwise cost one write each.
   */
  #batchWrites(client: Redis): void {
    if (this.#corked) return;
    const stream = client.stream;
    this.#corked = true;
    stream.cork();
    process.nextTick(() => {
      this.#corked = false;
      stream.uncork();
    });
  }

  /** The error of a call not carried out: Redis could not be used. */
  #unavailable(reason: string): PyException {
    const error = new PyException('ConnectionError', `the manager's Redis store at ${this.location} cannot be used (${reason}); the call was not carried out; the manager reconnects by itself: try again`);
    notCarriedOut.set(error, reason);
    return error;
  }

  /** The error of a call whose script was sent to Redis and whose reply was lost: Redis may have carried it out. */
  #effectUnknown(reason: string): PyException {
    return new PyException(
      'ConnectionError',
      `the manager's Redis store at ${this.location} cannot be used (${reason}) after this call was sent to it: the effect of this call is unknown; the manager reconnects by itself`,
    );
  }
}
