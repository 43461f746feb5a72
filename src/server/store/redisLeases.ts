/**
 * Manager leases: what the sessions of a manager hold in a Redis store (a lock, permits, a
 * delivery in flight) is theirs only while that manager is alive. Each manager keeps a lease, a
 * key with a time to live that it renews well before it runs out; a manager that stops renewing
 * (killed, frozen, cut off from Redis) loses its lease, and any surviving manager on the same
 * prefix then gives back what the dead one's sessions held, as each session's own end would have.
 * This is ZooKeeper's session idea with Redis key expiry as the clock: no manager needs to hear
 * of another's death, a missing key is the death.
 *
 * Keys (under `PREFIX:`):
 * - `managers`: the set of manager ids that may hold something;
 * - `m:ID`: manager `ID`'s lease (its value: the manager's token; it expires unless renewed);
 * - `m:ID:held`: where manager `ID`'s sessions hold something, one `KIND OBJECTKEY` member per
 *   object and kind of holding (written by the scripts that grant a holding, atomically with it);
 * - `m:ID:reaping`: a survivor's claim on giving back dead manager `ID`'s holdings, so that only
 *   one survivor does it at a time (it expires, so a survivor that dies while reaping is replaced).
 */

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisObjectHost } from './redisStore';

/** How long a manager's lease lasts unless renewed, by default (the `storeLeaseMs` option). */
export const DEFAULT_LEASE_MS = 5000;

/** The shortest lease a manager accepts: renewals must fit well inside it. */
export const MIN_LEASE_MS = 300;

/**
 * Gives back what a dead manager's sessions held of one object: every holding of this kind on
 * the object whose owner is one of manager `managerId`'s sessions (owner ids start with
 * `managerId/`, see {@link ownerIdIn}). Must be idempotent: a survivor that dies while reaping is
 * replaced by another, which reaps again.
 */
export type Reclaimer = (host: RedisObjectHost, objectKey: string, managerId: string) => Promise<void>;

/**
 * The owner id, in Redis, of session `sessionId` holding under lease `holderId` (its manager's, or
 * a resumable session's own): `HOLDER/SESSION`, global across the group.
 */
export function ownerIdIn(holderId: string, sessionId: string): string {
  return `${holderId}/${sessionId}`;
}

/** The id of the lease an owner id (`HOLDER/SESSION`) holds under: a manager's, or a resumable session's own. */
export function holderOf(ownerId: string): string {
  return ownerId.slice(0, ownerId.lastIndexOf('/'));
}

/** The session id of an owner id (`HOLDER/SESSION`): its id on the manager that served it last. */
export function sessionIdOf(ownerId: string): string {
  return ownerId.slice(ownerId.lastIndexOf('/') + 1);
}

/** The member of a manager's held index saying its sessions hold something of `kind` on `objectKey`. */
export function heldEntry(kind: string, objectKey: string): string {
  return `${kind} ${objectKey}`;
}

/** The kind and object key of a held index entry (see {@link heldEntry}). */
function splitHeldEntry(entry: string): [kind: string, objectKey: string] {
  const space = entry.indexOf(' ');
  return [entry.slice(0, space), entry.slice(space + 1)];
}

/** Where the keys of lease holders start: `PREFIX:m:`. */
export function leaseKeyPrefix(prefix: string): string {
  return `${prefix}:m:`;
}

/** The key of lease holder `id` (a manager, or a resumable session's own lease), or of its `what`: `PREFIX:m:ID[:WHAT]`. */
export function leaseKey(prefix: string, id: string, what?: string): string {
  return what ? `${leaseKeyPrefix(prefix)}${id}:${what}` : `${leaseKeyPrefix(prefix)}${id}`;
}

/** Keeps this manager's lease and reaps the holdings of managers whose lease ran out. */
export class ManagerLease {
  /** This manager's id in the group: owner ids of its sessions start with it. */
  readonly managerId = randomUUID();
  /** What this manager writes as its lease's value, to tell its own lease from a successor's. */
  readonly #token = randomUUID();
  #renewTimer: NodeJS.Timeout | undefined;
  #reapTimer: NodeJS.Timeout | undefined;
  #reaping = false;
  #lost = false;

  constructor(
    private readonly prefix: string,
    /** How long the lease lasts unless renewed (ms). */
    readonly leaseMs: number,
    private readonly reclaimers: Readonly<Record<string, Reclaimer>>,
    private readonly log: (message: string) => void,
  ) {
    if (!Number.isInteger(leaseMs) || leaseMs < MIN_LEASE_MS) throw new Error(`a store lease must be a whole number of milliseconds, at least ${MIN_LEASE_MS}; got ${leaseMs}`);
  }

  /** The key of this manager's held index (see the module comment): scripts granting a holding add to it. */
  get heldIndexKey(): string {
    return this.#key(this.managerId, 'held');
  }

  /** The key of the held index of `holderId`: a manager, or a session holding under its own lease (`redisSessions.ts`). */
  heldIndexOf(holderId: string): string {
    return this.#key(holderId, 'held');
  }

  #key(managerId: string, what?: string): string {
    return leaseKey(this.prefix, managerId, what);
  }

  /**
   * Takes the lease and starts renewing it and reaping dead managers. `onLost` is called when a
   * renewal finds the lease gone (this manager was cut off longer than the lease, and survivors
   * may have given back what its sessions held): the manager must end those sessions.
   */
  async start(client: Redis, host: RedisObjectHost, onLost: () => void): Promise<void> {
    await client.multi().set(this.#key(this.managerId), this.#token, 'PX', this.leaseMs).sadd(`${this.prefix}:managers`, this.managerId).exec();
    // Renew three times per lease: two renewals may fail (a slow Redis, a pause) before it lapses.
    this.#renewTimer = setInterval(() => void this.#renew(client, onLost), Math.floor(this.leaseMs / 3));
    this.#reapTimer = setInterval(() => void this.reapOnce(client, host), Math.floor(this.leaseMs / 2));
    this.#renewTimer.unref();
    this.#reapTimer.unref();
  }

  async #renew(client: Redis, onLost: () => void): Promise<void> {
    try {
      // Renewed only if it is still ours: a lease that lapsed stays lapsed (its holdings may be given back already).
      const renewed = await client.eval(RENEW, 2, this.#key(this.managerId), `${this.prefix}:managers`, this.#token, this.leaseMs, this.managerId);
      if (renewed === 1) {
        this.#lost = false;
        return;
      }
      if (this.#lost) return;
      this.#lost = true;
      this.log(`Redis store: this manager's lease ran out (no renewal for ${this.leaseMs} ms); its sessions' holdings may have been given back, so they end`);
      // A fresh lease under the same id: new holdings are this manager's again.
      await client.multi().set(this.#key(this.managerId), this.#token, 'PX', this.leaseMs).sadd(`${this.prefix}:managers`, this.managerId).exec();
      onLost();
    } catch {
      // Redis is away: the store logs that; the next renewal tries again.
    }
  }

  /**
   * One round of reaping: gives back the holdings of every manager of the prefix whose lease ran
   * out. Runs by itself every half lease; tests call it to reap at once.
   */
  async reapOnce(client: Redis, host: RedisObjectHost): Promise<void> {
    if (this.#reaping) return;
    this.#reaping = true;
    try {
      const managers = (await client.smembers(`${this.prefix}:managers`)).filter((id) => id !== this.managerId);
      // One round trip for them all: the group holds a lease for each manager and each resumable session.
      const alive = (await client.pipeline(managers.map((id) => ['exists', this.#key(id)])).exec()) ?? [];
      for (const [i, id] of managers.entries()) {
        if (alive[i]?.[0] !== null || alive[i]?.[1] !== 0) continue;
        if ((await client.set(this.#key(id, 'reaping'), this.managerId, 'PX', this.leaseMs, 'NX')) !== 'OK') continue;
        await this.reap(client, host, id);
      }
    } catch (error) {
      this.log(`Redis store: giving back a dead manager's holdings failed: ${(error as Error).message}; trying again later`);
    } finally {
      this.#reaping = false;
    }
  }

  /**
   * Gives back everything the held index of `deadId` names (a manager whose lease ran out, or a
   * session lease, see `redisSessions.ts`), then takes it out of the group if its lease is gone.
   */
  async reap(client: Redis, host: RedisObjectHost, deadId: string): Promise<void> {
    const entries = await client.smembers(this.#key(deadId, 'held'));
    for (const entry of entries) {
      const [kind, objectKey] = splitHeldEntry(entry);
      const reclaim = this.reclaimers[kind];
      if (!reclaim) {
        this.log(`Redis store: manager ${deadId} held something of kind ${JSON.stringify(kind)}, which this manager does not know; left as it is`);
        continue;
      }
      await reclaim(host, objectKey, deadId);
      await client.srem(this.#key(deadId, 'held'), entry);
    }
    // Only while the lease is still gone: a manager that took a fresh one meanwhile keeps its place and its new holdings.
    const keys = [this.#key(deadId), `${this.prefix}:managers`, this.#key(deadId, 'held'), this.#key(deadId, 'reaping'), this.#key(deadId, 'session'), this.#key(deadId, 'refs')];
    await client.eval(REAPED, keys.length, ...keys, deadId);
    if (entries.length > 0) this.log(`Redis store: manager ${deadId} stopped renewing its lease; what its sessions held was given back`);
  }

  /**
   * Runs, for each entry of `holderId`'s held index, the function `byKind` names for its kind
   * (kinds it does not name are left alone), leaving the index as it is: a manager taking a
   * session over withdraws what the session's dead calls waited for (`redisSessions.ts`).
   */
  async visit(client: Redis, host: RedisObjectHost, holderId: string, byKind: Readonly<Record<string, Reclaimer>>): Promise<void> {
    for (const entry of await client.smembers(this.#key(holderId, 'held'))) {
      const [kind, objectKey] = splitHeldEntry(entry);
      await byKind[kind]?.(host, objectKey, holderId);
    }
  }

  /**
   * Stops renewing, removes the lease at once rather than letting it run out, and gives back
   * whatever the index still names (its sessions have ended, so anything left there is a holding
   * whose give-back failed, say while Redis was away). The lease goes first, so the group is left
   * with the index too (see REAPED).
   */
  async stop(client: Redis | undefined, host: RedisObjectHost): Promise<void> {
    clearInterval(this.#renewTimer);
    clearInterval(this.#reapTimer);
    if (!client) return;
    try {
      await client.del(this.#key(this.managerId));
      await this.reap(client, host, this.managerId);
    } catch {
      // Redis is away: the lease runs out by itself and a survivor gives back what is left.
    }
  }
}

/**
 * Renews a lease only if it still holds this manager's token, and keeps the manager in the group
 * (a survivor that reaped it while its lease had lapsed took it out). KEYS: lease, managers.
 * ARGV: token, lease ms, manager id.
 */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
  return 1
end
return 0`;

/**
 * A reaped manager (or session lease) leaves the group with its held index (and a session's
 * record and references), unless it took a fresh lease meanwhile. KEYS: lease, managers, held
 * index, reaping claim, session record, session references. ARGV: manager id.
 */
const REAPED = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[3], KEYS[5], KEYS[6])
end
redis.call('DEL', KEYS[4])
return 0`;
