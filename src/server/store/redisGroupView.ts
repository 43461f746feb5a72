/**
 * What inspection shows of a group of managers on one Redis store: each manager publishes its
 * address and its sessions under its id (`PREFIX:m:ID:info`, JSON of a GroupManagerSummary,
 * expiring with its lease, so a dead manager's entry goes by itself), and any manager reads them
 * all back, with the objects the group shares (their `meta` and `refs`, see `redisReferences.ts`).
 */

import type { Redis } from 'ioredis';
import type { GroupKeptSession, GroupManagerSummary, GroupObjectSummary, InspectGroup } from '../../common/protocol';
import { builtinTypes } from '../builtins';
import { writeJson } from '../../common/jsonText';
import { GROUP_ID_PREFIX, STORED_MEMBER, type ObjectMeta } from './redisReferences';
import { isSessionLease } from './redisSessions';
import { leaseKey, sessionIdOf } from './redisLeases';
import type { ManagerDescription } from './objectStore';

/** How many keys one SCAN step asks for, and how many steps a view takes at most. */
const SCAN_COUNT = 1000;
const MAX_SCAN_STEPS = 10_000;

/** A group's directory of managers, as one manager of it keeps and reads it. */
export class GroupDirectory {
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #describe: (() => ManagerDescription) | undefined;

  constructor(
    private readonly prefix: string,
    private readonly managerId: string,
    /** How long a published entry lasts unless published again: the manager's lease. */
    private readonly leaseMs: number,
  ) {}

  #infoKey(managerId: string): string {
    return leaseKey(this.prefix, managerId, 'info');
  }

  /** Publishes `describe()` now, again three times per lease, and soon after each {@link changed}. */
  start(client: Redis, describe: () => ManagerDescription): void {
    this.#describe = describe;
    this.#timer = setInterval(() => void this.#publish(client), Math.floor(this.leaseMs / 3));
    this.#timer.unref();
    this.changed(client);
  }

  /** What this manager shows changed (a session came or went): published within a few milliseconds. */
  changed(client: Redis | undefined): void {
    if (!client || !this.#describe || this.#soon) return;
    // Several changes at once (a burst of connections) make one write.
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.#publish(client);
    }, 10);
    this.#soon.unref();
  }

  async #publish(client: Redis): Promise<void> {
    if (!this.#describe) return;
    const entry = { ...this.#describe(), managerId: this.managerId, publishedAt: Date.now() };
    // Redis away: the next round publishes again, and the entry lapses meanwhile as the lease does.
    await client.set(this.#infoKey(this.managerId), writeJson(entry), 'PX', this.leaseMs).catch(() => {});
  }

  /** Stops publishing and removes this manager's entry. */
  async stop(client: Redis | undefined): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#describe = undefined;
    await client?.del(this.#infoKey(this.managerId)).catch(() => {});
  }

  /** Every live manager that published itself (this one first) and every object the group shares. */
  async view(client: Redis): Promise<InspectGroup> {
    const ids = await client.smembers(`${this.prefix}:managers`);
    const texts = ids.length ? await client.mget(ids.map((id) => this.#infoKey(id))) : [];
    const managers: GroupManagerSummary[] = [];
    for (const text of texts) {
      if (!text) continue; // Dead, or not published yet.
      const entry = JSON.parse(text) as Omit<GroupManagerSummary, 'self'>;
      managers.push({ ...entry, self: entry.managerId === this.managerId });
    }
    managers.sort((x, y) => Number(y.self) - Number(x.self) || x.startedAt - y.startedAt);
    const keptSessions = await this.#keptSessions(client, ids.filter(isSessionLease), new Set(managers.map((m) => m.managerId)));
    return { managers, objects: await this.#objects(client), ...(keptSessions.length > 0 ? { keptSessions } : {}) };
  }

  /**
   * The resumable sessions the group keeps while no manager serves them (see `redisSessions.ts`):
   * a session lease whose host is not among the `listed` managers (gone: its entry lapsed with its
   * lease), until it is taken over or lapses itself.
   */
  async #keptSessions(client: Redis, leaseIds: string[], listed: ReadonlySet<string>): Promise<GroupKeptSession[]> {
    if (leaseIds.length === 0) return [];
    const leases = client.pipeline();
    for (const id of leaseIds) {
      const key = leaseKey(this.prefix, id);
      leases.get(key).pttl(key).hmget(leaseKey(this.prefix, id, 'session'), 'owner', 'client');
    }
    const replies = (await leases.exec()) ?? [];
    const found = leaseIds.map((_, i) => ({
      host: replies[3 * i]?.[1] as string | null,
      ttl: replies[3 * i + 1]?.[1] as number,
      record: (replies[3 * i + 2]?.[1] as (string | null)[] | undefined) ?? [],
    }));
    const now = Date.now();
    const kept: GroupKeptSession[] = [];
    for (const { host, ttl, record } of found) {
      const [owner, clientName] = record;
      // Gone meanwhile, or served by a live manager (whose entry lists it).
      if (!host || !owner || ttl <= 0 || listed.has(host)) continue;
      kept.push({ sessionId: sessionIdOf(owner), managerId: host, resumableUntil: now + ttl, ...(clientName ? { clientName } : {}) });
    }
    return kept.sort((x, y) => x.resumableUntil - y.resumableUntil);
  }

  async #objects(client: Redis): Promise<GroupObjectSummary[]> {
    const objectKeys = `${this.prefix}:o:`;
    const metaKeys: string[] = [];
    let cursor = '0';
    for (let step = 0; step < MAX_SCAN_STEPS; step++) {
      const [next, found] = await client.scan(cursor, 'MATCH', `${objectKeys}*:meta`, 'COUNT', SCAN_COUNT);
      metaKeys.push(...found);
      cursor = next;
      if (cursor === '0') break;
    }
    const objects: GroupObjectSummary[] = [];
    if (metaKeys.length === 0) return objects;
    const pipeline = client.pipeline();
    for (const key of metaKeys) pipeline.get(key).smembers(`${key.slice(0, -':meta'.length)}:refs`);
    const replies = (await pipeline.exec()) ?? [];
    metaKeys.forEach((key, i) => {
      const text = replies[2 * i]?.[1] as string | null;
      if (!text) return; // Deleted since the scan.
      const meta = JSON.parse(text) as ObjectMeta;
      const members = (replies[2 * i + 1]?.[1] as string[] | undefined) ?? [];
      objects.push({
        id: `${GROUP_ID_PREFIX}${key.slice(objectKeys.length, -':meta'.length)}`,
        typeid: meta.typeid,
        type: builtinTypes[meta.type]?.type.builtin ?? meta.type,
        // A resumable session holding it under its own lease is shown by its manager's sessions, not as a manager.
        managers: members.filter((m) => m !== STORED_MEMBER && !isSessionLease(m)).sort(),
        stored: members.includes(STORED_MEMBER),
      });
    });
    return objects;
  }
}
