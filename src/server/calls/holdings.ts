/**
 * What one connection holds past the end of its calls (a lock, an RLock's recursion, semaphore
 * permits), with the object each belongs to, so that when the connection ends everything is given
 * back, and inspection can list it. Shared by the JSON-RPC and the Python sessions.
 */

import type { Inspector } from '../inspector';
import type { DeliverySummary } from '../../common/protocol';
import type { HeldResource } from './methodDispatch';

/** The resources one session holds. */
export class Holdings {
  /** Each resource held: its object's id, and what lets the object leave the table once it is given back. */
  readonly #held = new Map<HeldResource, { objectId: string; unkeep?: () => void }>();
  #ended = false;

  constructor(
    /** The session's id: the owner id the resources know it by. */
    private readonly ownerId: string,
    private readonly inspector: Inspector,
    private readonly log: (message: string) => void,
  ) {}

  /**
   * The session now holds part of `resource` (of object `objectId`). `keep`, when given, keeps the
   * object in the table while it is held (SPEC 8.5, since 1.3) and returns what lets it go.
   */
  hold(resource: HeldResource, objectId: string, keep?: () => () => void): void {
    if (this.#ended) {
      // Granted in the same turn the connection went: give it back at once.
      queueMicrotask(() => this.giveBack(resource, objectId));
      return;
    }
    if (!this.#held.has(resource)) {
      this.#held.set(resource, { objectId, unkeep: keep?.() });
      if (this.inspector.active) this.inspector.sessionsChanged();
    }
  }

  /** The session holds nothing more of `resource`. */
  letGo(resource: HeldResource): void {
    const held = this.#held.get(resource);
    if (!held) return;
    this.#held.delete(resource);
    held.unkeep?.();
    if (this.inspector.active) this.inspector.sessionsChanged();
  }

  /** Ids of the objects held, once each. */
  objectIds(): string[] {
    return [...new Set([...this.#held.values()].map((h) => h.objectId))];
  }

  /** The deliveries in flight the session holds (SPEC 20.3), with the queue each came from. */
  deliveries(): DeliverySummary[] {
    const out: DeliverySummary[] = [];
    for (const [resource, { objectId }] of this.#held) {
      for (const held of resource.deliveriesOf?.(this.ownerId) ?? []) out.push({ ...held, objectId });
    }
    return out;
  }

  /** The session ended: gives everything back; anything granted later is given back at once. */
  end(): void {
    this.#ended = true;
    const held = [...this.#held];
    this.#held.clear();
    // Everything is given back before any object may leave the table: a waiter woken by a
    // release finds its object still there (SPEC 10.1, since 1.3).
    for (const [resource, { objectId }] of held) this.giveBack(resource, objectId);
    for (const [, { unkeep }] of held) unkeep?.();
  }

  /** Gives back what the session held of one resource; a failure is logged, never thrown. */
  private giveBack(resource: HeldResource, objectId: string): void {
    try {
      resource.ownerLeft(this.ownerId);
    } catch (error) {
      this.log(`session ${this.ownerId}: releasing what it held of object ${objectId} failed: ${(error as Error).message}`);
    }
    if (this.inspector.active) this.inspector.touched(objectId);
  }
}
