/**
 * What one connection holds past the end of its calls (a lock, an RLock's recursion, semaphore
 * permits), with the object each belongs to, so that when the connection ends everything is given
 * back, and inspection can list it. Shared by the JSON-RPC and the Python sessions.
 */

import type { Inspector } from '../inspector';
import type { HeldResource } from './methodDispatch';

/** The resources one session holds. */
export class Holdings {
  readonly #held = new Map<HeldResource, string>();
  #ended = false;

  constructor(
    /** The session's id: the owner id the resources know it by. */
    private readonly ownerId: string,
    private readonly inspector: Inspector,
    private readonly log: (message: string) => void,
  ) {}

  /** The session now holds part of `resource` (of object `objectId`). */
  hold(resource: HeldResource, objectId: string): void {
    if (this.#ended) {
      // Granted in the same turn the connection went: give it back at once.
      queueMicrotask(() => this.giveBack(resource, objectId));
      return;
    }
    if (!this.#held.has(resource)) {
      this.#held.set(resource, objectId);
      if (this.inspector.active) this.inspector.sessionsChanged();
    }
  }

  /** The session holds nothing more of `resource`. */
  letGo(resource: HeldResource): void {
    if (this.#held.delete(resource) && this.inspector.active) this.inspector.sessionsChanged();
  }

  /** Ids of the objects held, once each. */
  objectIds(): string[] {
    return [...new Set(this.#held.values())];
  }

  /** The session ended: gives everything back; anything granted later is given back at once. */
  end(): void {
    this.#ended = true;
    const held = [...this.#held];
    this.#held.clear();
    for (const [resource, objectId] of held) this.giveBack(resource, objectId);
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
