/**
 * The requests of a connection awaiting their answers, by id. A client awaiting each call has one
 * request out at a time: that one is kept in a slot of its own, and only requests made while an
 * earlier one is still out go into the Map. A Map that gets one id and loses it again on every
 * call reallocates its table each time (it shrinks when emptied), which the slot spares.
 */

/** A table of pending requests of type `T`, by numeric id. */
export class PendingRequests<T> {
  /** The newest request, while it is pending (-1: none in the slot). */
  #slotId = -1;
  #slotEntry: T | undefined;
  /** Every other pending request. */
  readonly #others = new Map<number, T>();

  /** Requests awaiting an answer. */
  get size(): number {
    return this.#others.size + (this.#slotId >= 0 ? 1 : 0);
  }

  /** Adds a request; ids are never negative and never added twice. */
  set(id: number, entry: T): void {
    if (this.#slotId >= 0) this.#others.set(this.#slotId, this.#slotEntry!);
    this.#slotId = id;
    this.#slotEntry = entry;
  }

  get(id: number): T | undefined {
    return id === this.#slotId ? this.#slotEntry : this.#others.get(id);
  }

  /** Removes a request and returns it; undefined when none has that id. */
  take(id: number): T | undefined {
    if (id === this.#slotId) {
      const entry = this.#slotEntry;
      this.#slotId = -1;
      this.#slotEntry = undefined;
      return entry;
    }
    const entry = this.#others.get(id);
    if (entry !== undefined) this.#others.delete(id);
    return entry;
  }

  /** Every pending request with its id, oldest first. */
  entries(): [number, T][] {
    const all = [...this.#others];
    if (this.#slotId >= 0) all.push([this.#slotId, this.#slotEntry!]);
    return all;
  }

  /** Forgets every request. */
  clear(): void {
    this.#others.clear();
    this.#slotId = -1;
    this.#slotEntry = undefined;
  }
}
