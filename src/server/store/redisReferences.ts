/**
 * Group-wide objects in a Redis store: an object a client creates through one manager can be used
 * through any other manager of the group by its id, and lives while any of them refers to it.
 *
 * Keys (under `PREFIX:o:NAME:`):
 * - `meta`: what any manager needs to serve the object (its typeid, built-in type and constructor
 *   arguments, see {@link ObjectMeta}), written when it is created;
 * - `refs`: the ids of the managers whose sessions hold references to it, plus `stored` once a
 *   stored value (an item of a queue, a value of a dict) refers to it; such an object is kept as
 *   long as the store, as the in-memory store keeps it as long as the manager.
 *
 * A manager adds itself to `refs` when the object enters its table and removes itself when it
 * leaves; the last one out deletes the object's keys, in the same script. A manager that dies
 * cannot remove itself: it wrote `ref OBJECTKEY` into its held index with its first reference, and
 * the survivor that reaps it drops its references ({@link reclaimReferences}).
 */

import type { BuiltinTypeId } from '../builtins';
import type { Reclaimer } from './redisLeases';
import type { StoreScript } from './redisScripts';

/** What a manager needs to serve an object made through another (the `meta` key). */
export interface ObjectMeta {
  /** The typeid it was created under. */
  readonly typeid: string;
  /** The built-in type the store made it as. */
  readonly type: BuiltinTypeId;
  /** Its constructor's arguments, as stored text (see `valueText.ts`) of `[args, kwargs]`. */
  readonly args: string;
}

/** The kind of holding, in a manager's held index, that says its sessions refer to an object. */
export const REFERENCE_KIND = 'ref';

/** The member of `refs` that pins an object a stored value refers to. */
export const STORED_MEMBER = 'stored';

/** The group-wide id prefix of an object kept in a Redis store. */
export const GROUP_ID_PREFIX = 'r:';

/** The `meta` and `refs` keys of the object whose key prefix is `objectKey`. */
export function referenceKeys(objectKey: string): [meta: string, refs: string] {
  return [`${objectKey}:meta`, `${objectKey}:refs`];
}

/** The scripts of references (merged into the store's scripts). */
export const REFERENCE_SCRIPTS = {
  /** A manager (or `stored`) refers to an object. KEYS: refs, held index. ARGV: member, held entry ('' for none). */
  smRefHold: {
    keys: 2,
    text: `
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('SADD', KEYS[2], ARGV[2]) end
return 1`,
  },
  /**
   * A manager no longer refers to an object; the last one out deletes every key of it. KEYS:
   * refs, held index, meta. ARGV: member, held entry ('' for none), then the object's own keys
   * (their number varies by type). Returns 1 when the object was deleted.
   */
  smRefDrop: {
    keys: 3,
    text: `
redis.call('SREM', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('SREM', KEYS[2], ARGV[2]) end
if redis.call('SCARD', KEYS[1]) > 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[3])
for i = 3, #ARGV do redis.call('DEL', ARGV[i]) end
return 1`,
  },
} as const satisfies Record<string, StoreScript>;

/** What the reclaimer needs of the store. */
export interface ReferenceHost {
  /**
   * Drops `member`'s reference to the object whose key prefix is `objectKey` (its held entry
   * too, unless `heldEntry` is ''), deleting the object when nobody refers to it any more.
   */
  dropReference(objectKey: string, member: string, heldEntry: string): Promise<void>;
}

/**
 * Drops a dead manager's references to one object, deleting it if nobody else refers to it: the
 * reclaimer of {@link REFERENCE_KIND} (the reaper removes the held entry itself). Idempotent, as
 * reclaimers must be.
 */
export const reclaimReferences: Reclaimer = async (host, objectKey, managerId) => {
  await (host as unknown as ReferenceHost).dropReference(objectKey, managerId, '');
};
