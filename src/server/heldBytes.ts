/**
 * What the values a reader builds hold in V8's heap, counted to refuse a message past the read rule
 * (`limits.ts`, SPEC §19): realistic upper bounds, never the packing decision's high estimates,
 * so an ordinary message is never refused. Measured on Node 20 (64-bit, no pointer compression)
 * by `test/server/decode-memory.test.ts`: a record of a few members is a header and 8 bytes a
 * member; records of the same keys share one map and one string a key; a record of many members
 * is a hash table of a power of two entries; a string is its header and its characters. The
 * string table V8 keeps of internalized strings is off the heap and is not counted: the rule, and
 * the test measuring it, are in heap bytes (about 16 bytes a distinct key beside, bounded by the
 * value limit).
 */

/** Bytes of heap per part of a built value. */
export const HELD_BYTES = {
  /** An item's slot in its array, a member's in its record, a small int's whole cost. */
  slot: 8,
  /** A number that is no small int. */
  heapNumber: 16,
  /** A string's header (its characters follow, rounded to 8). */
  string: 16,
  /** An array's header and its store's. */
  array: 48,
  /** A set's or a Map's entry beside its slots, with the table's spare room. */
  tableEntry: 40,
  /** A record in dictionary mode: its header and its table's. */
  dictionary: 96,
  /** An entry of a record's table in dictionary mode (key, value, details), used or spare. */
  dictionaryEntry: 24,
  /** A key shape met first: its map, its descriptor and its place in the parent's transitions. */
  shape: 120,
  /** A descriptor copied when a shape branches off one another shape already extends. */
  descriptor: 24,
  /** A record's store of members named by array indexes ("0", "99999999"): its header, as a table. */
  elements: 176,
  /** A member named by an array index beyond its slot: its entry in that table, with spare room. */
  element: 64,
} as const;

/**
 * How a record is built: by `JSON.parse`, or cloned from a record it made (the pickle reader's,
 * `python/pickle/recordTemplates.ts`); or member by member from `{}` (the value codec's copies).
 */
export type RecordBuild = 'parsed' | 'assigned';

/** Members from which a record is in dictionary mode, by how it is built (V8's JSON parser; named stores). */
export const DICTIONARY_FROM: Readonly<Record<RecordBuild, number>> = { parsed: 128, assigned: 20 };

/** In-object member slots an empty record has (so a record of up to this many holds no more). */
const IN_OBJECT_SLOTS = 4;

/** A member name V8 keeps as an array index (below 2^32 - 1, checked apart). */
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;

/** A record's header: map, properties and elements. */
const RECORD_HEADER = 24;

/** Bytes a string of `length` characters holds, one byte a character or two (`wide`), rounded as the heap rounds. */
export function stringBytes(length: number, wide: boolean): number {
  return (HELD_BYTES.string + (wide ? 2 : 1) * length + 7) & ~7;
}

/** Bytes a bigint holds beyond its slot: a heap number's header and its words (a byte every two hex digits). */
export function bigintBytes(value: bigint): number {
  return HELD_BYTES.heapNumber + value.toString(16).length / 2;
}

/** An array grown item by item from empty, before its items' slots: its header and the 17 slots its store starts with. */
export const GROWN_ARRAY = HELD_BYTES.array + 17 * HELD_BYTES.slot;

/** The spare room an array grown item by item keeps for each item (up to half as many slots again), beyond the item's own slot. */
export const GROWN_SPARE = HELD_BYTES.slot / 2;

/**
 * Bytes an array of `items` items holds when the decoder copies it (an item changed as it was
 * decoded): grown item by item, {@link GROWN_ARRAY} and a slot an item, with its spare room in whole slots.
 */
export function copiedArrayBytes(items: number): number {
  return GROWN_ARRAY + items * HELD_BYTES.slot + (items >> 1) * 2 * GROWN_SPARE;
}

/**
 * Bytes a record of `members` members holds beyond its members' slots (which its values count)
 * and its keys' strings and shapes ({@link HeldShapes}).
 */
export function recordBytes(members: number, built: RecordBuild): number {
  // A table (V8's NameDictionary) of the least power of two entries at least 1.5 times its
  // members, however it grew: 24 to 48 bytes a member, the slot its value counts besides.
  if (members >= DICTIONARY_FROM[built]) return HELD_BYTES.dictionary + HELD_BYTES.dictionaryEntry * 2 ** Math.ceil(Math.log2(members + (members >> 1)));
  // Parsed (or cloned from a parsed one), a record has a slot a member, two at least (an empty
  // one four); built member by member, its first four are in the object and the rest in a store
  // of its own (a header and up to 3 spare slots).
  if (built === 'parsed') return RECORD_HEADER + Math.max(0, (members === 0 ? IN_OBJECT_SLOTS : 2) - members) * HELD_BYTES.slot;
  if (members <= IN_OBJECT_SLOTS) return RECORD_HEADER + (IN_OBJECT_SLOTS - members) * HELD_BYTES.slot;
  return RECORD_HEADER + 16 + 3 * HELD_BYTES.slot;
}

/**
 * The strings and shapes one message's records share: a key's string (and a short string value,
 * which V8's JSON parser internalizes) is held once per distinct text, a shape (the sequence of
 * keys a record was built with) once per distinct sequence. Bounded by the message: one entry per
 * distinct text or member it holds.
 */
export class HeldShapes {
  readonly #texts = new Set<string>();
  /** Each shape's next shapes, by key (each shape an index in it). */
  readonly #shapes: Map<string, number>[] = [];
  /** The first shape of each way of building (a parsed record's by its member count). */
  readonly #roots = new Map<string | number, number>();

  /** Bytes the internalized string of `text` holds if not met before in the message, else 0; `wide` if known. */
  internalized(text: string, wide?: boolean): number {
    if (this.#texts.has(text)) return 0;
    this.#texts.add(text);
    return stringBytes(text.length, wide ?? /[^\u0000-\u00ff]/.test(text));
  }

  /**
   * Bytes a record of the keys `keys[from]` up to `keys[to]` (all of them by default) holds beyond
   * its members' slots: itself ({@link recordBytes}), each key's string met first, each shape met
   * first (up to the members from which it is a table).
   */
  record(keys: readonly string[], built: RecordBuild, from = 0, to = keys.length): number {
    const members = to - from;
    let bytes = recordBytes(members, built);
    if (members === 0) return bytes;
    // Each way of building starts from its own shapes; a parsed record's from one a member count.
    let shape = this.#root(built === 'parsed' ? members : built);
    let indexes = 0;
    for (let i = 0; i < members; i++) {
      const key = keys[from + i];
      if (isArrayIndex(key)) {
        // Kept apart from the named members, in a store that may be a table.
        if (indexes++ === 0) bytes += HELD_BYTES.elements;
        bytes += HELD_BYTES.element;
        continue;
      }
      bytes += this.internalized(key);
      if (i >= DICTIONARY_FROM[built]) continue;
      const next = this.#shapes[shape];
      const known = next.get(key);
      if (known !== undefined) {
        shape = known;
        continue;
      }
      bytes += HELD_BYTES.shape;
      // A branch copies the descriptors of the shape it extends.
      if (next.size > 0) bytes += HELD_BYTES.descriptor * (i + 1);
      next.set(key, this.#shapes.length);
      shape = this.#shapes.push(new Map()) - 1;
    }
    return bytes;
  }

  #root(way: string | number): number {
    let root = this.#roots.get(way);
    if (root === undefined) {
      root = this.#shapes.push(new Map()) - 1;
      this.#roots.set(way, root);
    }
    return root;
  }
}

/** Whether V8 keeps a member of this name as an array index: an integer below 2^32 - 1, spelled as such. */
function isArrayIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 0x30 && c <= 0x39 && ARRAY_INDEX.test(key) && Number(key) < 2 ** 32 - 1;
}
