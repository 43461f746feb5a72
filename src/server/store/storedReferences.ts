/**
 * References to shared objects inside values kept in Redis: a proxy stored in a dict or put on a
 * queue. An object kept in Redis itself is stored as its group-wide token, which every manager of
 * the group reads back as that object (see `redisReferences.ts`). Any other object stays in this
 * manager's memory (pinned: it lives as long as the manager), and the stored value holds a token
 * naming it. Another manager reading that value cannot reach the object: it gets a clear error
 * saying so.
 */

import { randomUUID } from 'node:crypto';
import type { Token } from '../../common/protocol';
import type { ProxyCodec } from '../../common/valueCodec';
import { SharedRef } from '../calls/sharedRef';
import { PyException } from '../exceptions';

/** The token prefix of a stored reference. */
const PREFIX = 'stored-ref:';

/** How the store stores and reads back its own, group-wide objects. */
export interface GroupTokens {
  /** The token a stored value keeps for an object of the store; undefined for another object. */
  storedToken(obj: object): Token | undefined;
  /** The object a group-wide token names; undefined if this manager cannot serve it. Undefined at once for another token. */
  fromStoredToken(token: Token): object | undefined;
  /** Whether `id` is a group-wide id. */
  isGroupId(id: string): boolean;
}

/** The objects this manager's stored values refer to. */
export class StoredReferences implements ProxyCodec {
  /** This manager's part of every token, so that another manager knows a token is not its own. */
  readonly #manager = randomUUID();
  #next = 0;
  readonly #objects = new Map<string, object>();
  readonly #ids = new WeakMap<object, string>();

  constructor(
    private readonly location: string,
    private readonly group?: GroupTokens,
  ) {}

  encodeProxy = (value: object): Token | undefined => {
    if (!(value instanceof SharedRef)) return undefined;
    const groupToken = this.group?.storedToken(value.obj);
    if (groupToken) return groupToken;
    let id = this.#ids.get(value.obj);
    if (id === undefined) {
      id = `${PREFIX}${this.#manager}/${this.#next++}`;
      this.#ids.set(value.obj, id);
      this.#objects.set(id, value.obj);
    }
    return { id, typeid: '', exposed: [] };
  };

  decodeProxy = (token: Token): unknown => {
    if (this.group?.isGroupId(token.id)) {
      const obj = this.group.fromStoredToken(token);
      if (obj) return SharedRef.of(obj);
      throw new PyException('ReferenceError', `a proxy stored in the Redis store at ${this.location} refers to ${token.id}, which this manager does not serve (a shared typeid it does not register)`);
    }
    const obj = this.#objects.get(token.id);
    if (!obj) {
      throw new PyException(
        'ReferenceError',
        `a proxy stored in the Redis store at ${this.location} refers to an object kept in another manager's memory (${token.id}): only that manager can hand it out`,
      );
    }
    return SharedRef.of(obj);
  };
}
