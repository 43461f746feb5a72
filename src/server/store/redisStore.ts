/**
 * The Redis store: the built-in types it knows keep their state in Redis, under one key prefix,
 * so that every manager on that Redis and prefix serves the same objects. ioredis is loaded only
 * when a Redis store is opened; the default in-memory store never touches it.
 *
 * Keys (all under `PREFIX:`): `version` (the store format this data is in; a manager refuses a
 * prefix holding another), `wake` (the channel changes are published on, see {@link Wakeups}),
 * `deliveries` (the counter delivery ids are drawn from, so that they are unique across the
 * group, see `redisDeliveries.ts`), and `o:NAME:…` for each object (with `o:NAME:waited` while
 * somebody waits on it): `NAME` is `shared:TYPEID` for a `shared` registration (the same object
 * on every manager registering it) and a random id for an object a client created.
 */

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { builtinTypes, type BuiltinType, type BuiltinTypeId } from '../builtins';
import { PyException } from '../exceptions';
import type { ObjectStore } from './objectStore';
import { redisBuiltinTypes, type RedisTypeFactory } from './redisTypes';
import type { RedisStoreAddress } from './storeUrl';
import { Wakeups } from './redisWakeups';
import { StoredReferences } from './storedReferences';
import { STORE_SCRIPTS, type ScriptName } from './redisScripts';
import { DEFAULT_LEASE_MS, ManagerLease, ownerIdIn } from './redisLeases';
import { reclaimers } from './redisReclaimers';

/** The format of the data this version writes; a prefix holding another format is refused. */
export const STORE_FORMAT = 'syncmanager-store/1';

/** How long the first connection may take before the manager refuses to start. */
const CONNECT_TIMEOUT_MS = 5000;

/** What a Redis-backed object needs from its store. */
export interface RedisObjectHost {
  /** The key prefix of an object named `name` (see the module comment). */
  keyOf(name: string): string;
  /** Runs one of the store's scripts atomically. @throws PyException ConnectionError when Redis cannot be reached. */
  run(script: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** The channel changes are published on (scripts PUBLISH the changed object's key there). */
  readonly channel: string;
  /** This manager's callers waiting on Redis-backed objects. */
  readonly wakeups: Wakeups;
  /** Deletes an object's keys once nothing in this manager can reach it any more. */
  forget(keys: readonly string[]): void;
  /** How references to shared objects inside stored values are stored and read back. */
  readonly refs: StoredReferences;
  /** This manager's id in the group of managers sharing the prefix (see `redisLeases.ts`). */
  readonly managerId: string;
  /**
   * The key of this manager's held index: a script granting a session a holding (a lock,
   * permits, a delivery) adds `heldEntry(kind, objectKey)` to it in the same script.
   */
  readonly heldIndexKey: string;
  /** The owner id, in Redis, of this manager's session `sessionId`: global across the group. */
  ownerId(sessionId: string): string;
  /** The key of the counter delivery ids are drawn from (acknowledged gets, SPEC 20.3). */
  readonly deliveryIdsKey: string;
}

/** A page of a Redis-backed object's contents, as inspection's peek shows it. */
export interface PeekPage {
  readonly kind: 'items' | 'entries' | 'attributes' | 'value';
  readonly total: number;
  readonly items: unknown[];
}

/** A store keeping the built-in types it knows in Redis (the others stay in this process, see README). */
export class RedisStore implements ObjectStore, RedisObjectHost {
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
  #subscriber: Redis | undefined;
  #opened = false;
  #closed = false;
  /** Whether this turn's commands are being held to go out in one write (see {@link RedisStore.run}). */
  #corked = false;
  readonly #forgotten = new FinalizationRegistry<readonly string[]>((keys) => this.forget(keys));
  readonly #factories: Readonly<Partial<Record<BuiltinTypeId, RedisTypeFactory>>>;
  readonly #lease: ManagerLease;

  constructor(
    private readonly address: RedisStoreAddress,
    private readonly prefix: string,
    private readonly log: (message: string) => void = () => {},
    /** How long this manager's holdings outlive it if it dies (ms): its lease. */
    leaseMs: number = DEFAULT_LEASE_MS,
  ) {
    this.#lease = new ManagerLease(prefix, leaseMs, reclaimers, log);
    this.location = `${address.shown} (prefix ${prefix})`;
    this.channel = `${prefix}:wake`;
    this.refs = new StoredReferences(this.location);
    this.#factories = redisBuiltinTypes;
    const types: Record<string, BuiltinType> = Object.create(null);
    for (const [typeid, builtin] of Object.entries(builtinTypes) as [BuiltinTypeId, BuiltinType][]) {
      const factory = this.#factories[typeid];
      types[typeid] = factory ? { type: factory.type, create: (args, kwargs) => this.#make(factory, randomUUID(), args, kwargs, true) } : builtin;
    }
    this.types = Object.freeze(types) as Record<BuiltinTypeId, BuiltinType>;
  }

  /** Which typeids keep their state in Redis (the others in this process). */
  get redisTypeids(): BuiltinTypeId[] {
    return Object.keys(this.#factories) as BuiltinTypeId[];
  }

  sharedObject(typeid: string, type: BuiltinTypeId, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): object {
    const factory = this.#factories[type];
    if (factory) return this.#make(factory, `shared:${typeid}`, args, kwargs, false);
    const create = builtinTypes[type].create;
    if (!create) throw new TypeError(`${type} objects come only from iteration; they cannot be shared as such`);
    return create(args, kwargs);
  }

  #make(factory: RedisTypeFactory, name: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, ownKeys: boolean): object {
    const obj = factory.create(this, name, args, kwargs);
    // An object a client created is deleted from Redis once this manager can no longer reach it.
    if (ownKeys) this.#forgotten.register(obj, factory.keys(this, name));
    return obj;
  }

  get managerId(): string {
    return this.#lease.managerId;
  }

  get heldIndexKey(): string {
    return this.#lease.heldIndexKey;
  }

  ownerId(sessionId: string): string {
    return ownerIdIn(this.#lease.managerId, sessionId);
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
    const { Redis } = await import('ioredis');
    const options = {
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Calls fail at once while Redis is away, rather than queueing without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Once serving, reconnect for ever (bounded backoff); at start, one try: refuse to start instead.
      retryStrategy: (times: number) => (this.#opened && !this.#closed ? Math.min(50 * 2 ** Math.min(times, 6), 2000) : null),
    };
    const client = new Redis(this.address.url, options);
    const subscriber = new Redis(this.address.url, options);
    for (const [which, c] of [['commands', client], ['wake-ups', subscriber]] as const) {
      let lost = false;
      c.on('error', (error: Error) => {
        if (this.#opened && !lost) this.log(`Redis store at ${this.location} (${which}): ${error.message}; reconnecting`);
        lost = true;
      });
      c.on('ready', () => {
        if (lost && this.#opened) this.log(`Redis store at ${this.location} (${which}): connected again`);
        lost = false;
        // Changes published while the subscription was away were missed: every waiter tries again.
        if (c === subscriber) this.wakeups.all();
      });
    }
    try {
      await client.connect();
      await subscriber.connect();
    } catch (error) {
      client.disconnect();
      subscriber.disconnect();
      throw new Error(`cannot reach the Redis store at ${this.address.shown}: ${(error as Error).message || String(error)}`);
    }
    try {
      await this.#checkFormat(client);
      for (const [name, lua] of Object.entries(STORE_SCRIPTS)) client.defineCommand(name, { numberOfKeys: lua.keys, lua: lua.text });
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
    this.#subscriber = subscriber;
    this.#opened = true;
    try {
      await this.#lease.start(client, this, () => holdingsLost?.());
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
    this.#closed = true;
    this.wakeups.stop();
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

  async run(script: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const client = this.#commands();
    this.#batchWrites(client);
    try {
      return await (client as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<unknown>>)[script](...keys, ...args);
    } catch (error) {
      // Redis answered with an error: a script met data it did not expect (a key of another type).
      if ((error as Error).name === 'ReplyError') throw new PyException('RuntimeError', `the Redis store at ${this.location} refused ${script}: ${(error as Error).message}`);
      throw this.#unavailable((error as Error).message);
    }
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

  forget(keys: readonly string[]): void {
    this.#client?.del(...keys).catch(() => {});
  }

  #unavailable(reason: string): PyException {
    return new PyException('ConnectionError', `the manager's Redis store at ${this.location} cannot be used (${reason}); the manager reconnects by itself: try again`);
  }
}
