/**
 * A reference to a shared object held inside a value: a queue stored in a dict, a lock passed to
 * `Condition(lock)`, a proxy put on a queue. A `$proxy` argument decodes to one; a result that
 * contains one goes back as a `$proxy`, with a new reference for the session that receives it,
 * so `d['q']` gives a proxy to the very queue that was stored. One SharedRef per object, so two
 * references to the same object are the same value (equal, same hash), as proxies' referents are.
 *
 * A SharedRef keeps its object alive while some value holds it, even when no client holds a
 * reference (the object then leaves the table and comes back, with the same id, when it is read).
 */

const refs = new WeakMap<object, SharedRef>();

/** A reference to a shared object, as a value. */
export class SharedRef {
  private constructor(
    /** The shared object itself. */
    readonly obj: object,
  ) {}

  /** The one reference to `obj`. */
  static of(obj: object): SharedRef {
    let ref = refs.get(obj);
    if (!ref) refs.set(obj, (ref = new SharedRef(obj)));
    return ref;
  }
}

/** The shared object a value refers to: the referent of a SharedRef, or the value itself. */
export function referent(value: unknown): unknown {
  return value instanceof SharedRef ? value.obj : value;
}
