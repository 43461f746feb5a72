/**
 * The requests of a connection awaiting their answers, by id. Ids are handed out in increasing
 * order and most requests are answered soon after, so each goes into a slot of a fixed ring
 * (its id modulo the ring's size), and only one still pending when a newer id needs its slot
 * moves to a Map. A Map that gains and loses an entry on every call reallocates its table again
 * and again, and V8 links each table it leaves to the next: once one of them reaches the old
 * generation, every later table and the requests in it survive each young collection until a full
 * one (with 100 calls in flight that was most of the client's garbage, collected at ten times the
 * cost). The ring allocates nothing per call.
 */

/** Slots in the ring: a power of two, well above the calls a program usually keeps in flight. */
const RING_SLOTS = 1024;

/** A table of pending requests of type `T`, by numeric id. */
export class PendingRequests<T> {
  /** The id in each slot (-1: none). Ids are never negative. */
  readonly #ids: number[] = new Array<number>(RING_SLOTS).fill(-1);
  readonly #entries: (T | undefined)[] = new Array<T | undefined>(RING_SLOTS).fill(undefined);
  #inRing = 0;
  /** Requests still pending when a newer id took their slot (a get blocked while many other calls come and go). */
  readonly #others = new Map<number, T>();

  /** Requests awaiting an answer. */
  get size(): number {
    return this.#inRing + this.#others.size;
  }

  /** Adds a request; ids are never negative and never added twice. */
  set(id: number, entry: T): void {
    // The low bits of the id: `%` rather than `&`, which would cut an id past 2^31 to 32 bits first.
    const slot = id % RING_SLOTS;
    const held = this.#ids[slot];
    if (held >= 0) this.#others.set(held, this.#entries[slot]!);
    else this.#inRing++;
    this.#ids[slot] = id;
    this.#entries[slot] = entry;
  }

  get(id: number): T | undefined {
    const slot = id % RING_SLOTS;
    return this.#ids[slot] === id ? this.#entries[slot] : this.#others.size > 0 ? this.#others.get(id) : undefined;
  }

  /** Removes a request and returns it; undefined when none has that id. */
  take(id: number): T | undefined {
    const slot = id % RING_SLOTS;
    if (this.#ids[slot] === id) {
      const entry = this.#entries[slot];
      this.#ids[slot] = -1;
      this.#entries[slot] = undefined;
      this.#inRing--;
      return entry;
    }
    if (this.#others.size === 0) return undefined;
    const entry = this.#others.get(id);
    if (entry !== undefined) this.#others.delete(id);
    return entry;
  }

  /** Every pending request with its id, oldest (lowest id) first. */
  entries(): [number, T][] {
    const all: [number, T][] = [...this.#others];
    if (this.#inRing > 0) {
      for (let slot = 0; slot < RING_SLOTS; slot++) if (this.#ids[slot] >= 0) all.push([this.#ids[slot], this.#entries[slot]!]);
    }
    return all.sort((a, b) => a[0] - b[0]);
  }

  /** Forgets every request. */
  clear(): void {
    this.#others.clear();
    if (this.#inRing === 0) return;
    this.#ids.fill(-1);
    this.#entries.fill(undefined);
    this.#inRing = 0;
  }
}
