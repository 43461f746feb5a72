/**
 * A FIFO kept in blocks, as CPython's deque keeps its items: a queue of a million items is a few
 * hundred arrays of at most {@link MAX_BLOCK} slots, each allocated once at its full size and
 * dropped when its last item is taken. One array grown by `push` would be copied at each growth
 * (the copies left as garbage the size of the queue, in V8's large-object space, until a full
 * collection) and hold up to half as many slots again as it has items; taking from its front
 * would need the dead front trimmed by copying the rest. Here an item costs its slot (8 bytes;
 * a small int is stored in it as it is), and at most one block is partly empty at each end.
 */

import type { ItemStore } from './queue';

/**
 * The slots of the largest block: 128 KiB of slots and a header, just past V8's largest regular
 * object (128 KiB), so that a full block is a large object, which a young collection promotes
 * where it is instead of copying it twice (to the other half of the young generation, then to
 * the old), and whose memory goes back to the system when it is freed.
 */
export const MAX_BLOCK = 16384;
/**
 * The slots of the smallest block, the one a queue's first item gets: blocks grow with the queue
 * (each as large as the items held, up to {@link MAX_BLOCK}), so a short queue holds a short array.
 */
const MIN_BLOCK = 16;

/** A FIFO of items in blocks: `take` from the first block, `push` into the last. */
export class FifoBlocks implements ItemStore {
  /** The blocks in get order; each is allocated at its full size (its `length` is its capacity). */
  #blocks: unknown[][] = [];
  /** Where the first item is in the first block. */
  #head = 0;
  /** How many slots of the last block are used. */
  #tail = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: unknown): void {
    let last = this.#blocks[this.#blocks.length - 1];
    if (last === undefined || this.#tail === last.length) {
      last = new Array<unknown>(Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, this.#length)));
      this.#blocks.push(last);
      this.#tail = 0;
    }
    last[this.#tail++] = item;
    this.#length++;
  }

  take(): unknown {
    if (this.#length === 0) return undefined;
    const first = this.#blocks[0];
    const item = first[this.#head];
    // Not kept alive by the store once taken.
    first[this.#head++] = undefined;
    if (--this.#length === 0) this.#emptied();
    else if (this.#head === first.length) {
      this.#blocks.shift();
      this.#head = 0;
    }
    return item;
  }

  putBack(item: unknown): void {
    if (this.#length === 0) return this.push(item);
    if (this.#head === 0) {
      this.#blocks.unshift(new Array<unknown>(MIN_BLOCK));
      this.#head = MIN_BLOCK;
    }
    this.#blocks[0][--this.#head] = item;
    this.#length++;
  }

  snapshot(): unknown[] {
    return this.range(0, this.#length);
  }

  range(start: number, end: number): unknown[] {
    const out: unknown[] = [];
    let skip = this.#head + Math.max(0, start);
    let wanted = Math.min(end, this.#length) - Math.max(0, start);
    for (let b = 0; b < this.#blocks.length && wanted > 0; b++) {
      const block = this.#blocks[b];
      const used = b === this.#blocks.length - 1 ? this.#tail : block.length;
      if (skip >= used) {
        skip -= used;
        continue;
      }
      for (let i = skip; i < used && wanted > 0; i++, wanted--) out.push(block[i]);
      skip = 0;
    }
    return out;
  }

  /** Inspection's Remove Item: the store made again without it (O(n), as an array's splice). */
  removeAt(index: number): unknown {
    const items = this.snapshot();
    const [item] = items.splice(index, 1);
    this.#blocks = [];
    this.#length = 0;
    this.#emptied();
    this.fill(items);
    return item;
  }

  replaceAt(index: number, item: unknown): unknown {
    let at = this.#head + index;
    for (const block of this.#blocks) {
      if (at < block.length) {
        const old = block[at];
        block[at] = item;
        return old;
      }
      at -= block.length;
    }
    return undefined;
  }

  fill(items: readonly unknown[]): void {
    for (const item of items) this.push(item);
  }

  /**
   * No item left: the last block is kept for the next put when it is a small one (a queue that
   * one put fills and one get empties allocates nothing), and let go when it is large.
   */
  #emptied(): void {
    const last = this.#blocks[this.#blocks.length - 1];
    this.#blocks = last !== undefined && last.length <= MIN_BLOCK ? [last] : [];
    this.#head = 0;
    this.#tail = 0;
  }
}
