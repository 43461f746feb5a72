/**
 * One pass over a JSON value's text that builds nothing: it checks the syntax, estimates what the
 * value would cost as JavaScript objects once parsed and decoded, tells whether it may be kept as
 * text (`packedValues.ts`: every tag in it well formed, none that needs the session — `$proxy`,
 * `$attachment` — or a check at decoding — `$opaque`), counts what it would hold once built, as
 * the read rule's refusals count it (`heldBytes.ts`: realistic, unlike the estimate, which errs high
 * to decide what to keep as text), and can copy it in the value codec's
 * canonical form (each number written as the server would write the number it reads). Linear in
 * the text; recursion only as deep as {@link MAX_NESTING}.
 */

import { writeJson } from '../common/jsonText';
import { encodeValue, INT_SPELLING, isBase64, isFloatWord, MAX_DEPTH, tooManyIntDigits, VALUE_TAGS } from '../common/valueCodec';
import { MAX_EXACT_DIGITS } from '../common/exactDigits';
import { copiedArrayBytes, HELD_BYTES, HeldShapes, stringBytes } from './heldBytes';

/** Nesting beyond which a text is left to the parser: well past the value codec's depth, which it refuses once parsed. */
const MAX_NESTING = MAX_DEPTH + 64;
/** Nesting from which a value is left to the decoder, which refuses one deeper than its depth (the few levels' margin: how a tag is counted, the arguments' array). */
const MAX_PACKED_NESTING = MAX_DEPTH - 8;

/**
 * Estimated bytes of V8 heap per part of a parsed and decoded value, on the high side of what
 * `test/server/decode-memory.test.ts` measures (an empty object 56 B, an array slot 8 B, a
 * `$bytes` value some 230 B, a boxed number 16 B, a string as `heldBytes.stringBytes` counts it; an object's member some 63 B beside its value:
 * its name's string, and its entry in the object's table, with the table's spare room; a set's or
 * a Map's entry 33 B beside its item's slot): an
 * estimate that errs high only keeps more values as text, never fewer. A `$proxy` costs nothing
 * built (the object service gives one shared reference per object), and a `$opaque` its tag and
 * its text's length.
 */
export const COST = { container: 64, item: 8, heapNumber: 16, tag: 256, member: 72, entry: 40 } as const;

/** Longest string V8's JSON parser internalizes (so that equal ones share one string), in characters. */
const INTERNALIZED_LENGTH = 10;

/** What a value built from a tag holds, bytes beside its body's (its object, a Float, a BigInt, a Buffer's header): the estimate's tag, an upper bound. */
const HELD_TAG = COST.tag;

/** Why a tag spelled otherwise than the server writes it (a malformed one, which the decoder refuses) is built whole. */
const MALFORMED = 'a tag spelled otherwise than the server writes it';

/** The text is not JSON the walk understands: leave it to the parser, which says what is wrong. */
export class NotWalkable extends Error {}

/** An integer as `JSON.stringify` writes it, small enough to be exact (see {@link MAX_EXACT_DIGITS}). */
const CANONICAL_INT = new RegExp(`^-?[1-9]\\d{0,${MAX_EXACT_DIGITS - 1}}$|^0$`);

/** Walks one JSON value after another in a text, from a position. */
export class JsonTextWalk {
  /** Where the walk is: after the last value walked. */
  at = 0;
  /** Estimated heap bytes of what was walked since the last {@link reset}. */
  estimate = 0;
  /**
   * Bytes of heap what was walked since the last {@link reset} holds once parsed and decoded,
   * counted as the read rule's refusal counts it (`heldBytes.ts`): a string or shape the message
   * already holds is not counted again, even in another value.
   */
  held = 0;
  /** Whether all walked since the last {@link reset} may be kept as text. */
  packable = true;
  /** If not, the first reason it may not, as the read rule's refusal names it ("a $proxy"). */
  whole: string | undefined;
  /** Whether the value just walked holds a tag: the decoder copies the arrays and records around one. */
  #tagged = false;
  /** The strings and shapes the message's records share. */
  readonly #shapes = new HeldShapes();
  /** The keys of the records being walked, the innermost's last: the first {@link #keyCount}. */
  readonly #keys: string[] = [];
  #keyCount = 0;
  /** Whether {@link held} is counted (not while copying, which only needs the text). */
  #counting = true;
  /** The canonical copy's pieces, when copying. */
  #pieces: string[] | undefined;
  #copiedTo = 0;

  constructor(readonly text: string) {}

  /** Starts a new tally (and, with `copy`, a new copy) at the current position. */
  reset(copy = false): void {
    this.estimate = 0;
    this.held = 0;
    this.packable = true;
    this.whole = undefined;
    this.#tagged = false;
    this.#keyCount = 0;
    this.#counting = !copy;
    this.skipSpace();
    this.#pieces = copy ? [] : undefined;
    this.#copiedTo = this.at;
  }

  /** The canonical copy of what was walked since `reset(true)`: a string of its own, holding no part of the text. */
  copied(): string {
    const pieces = this.#pieces!;
    pieces.push(this.text.slice(this.#copiedTo, this.at));
    // A slice or a one-piece join may share the message's memory: a UTF-8 round trip makes a string of its own.
    return Buffer.from(pieces.join(''), 'utf8').toString('utf8');
  }

  skipSpace(): void {
    const text = this.text;
    let i = this.at;
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
    this.at = i;
  }

  /** The next character's code, after white space. */
  peek(): number {
    this.skipSpace();
    return this.text.charCodeAt(this.at);
  }

  expect(code: number): void {
    if (this.peek() !== code) throw new NotWalkable();
    this.at++;
  }

  /** Walks one value. */
  value(depth = 0): void {
    const c = this.peek();
    if (c === 0x7b) return this.object(depth + 1);
    if (c === 0x5b) return void this.array(depth + 1, false);
    if (c === 0x22) {
      const { start, end, wide } = this.string();
      return this.addString(start, end, wide);
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(true);
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return;
      }
    }
    throw new NotWalkable();
  }

  /** Counts a string value: its header and a byte a character, two if one is beyond Latin-1 (its text, escapes and all, is no shorter), rounded as the heap rounds. */
  private addString(start: number, end: number, wide: boolean): void {
    const bytes = stringBytes(end - start, wide);
    this.estimate += bytes;
    // A short one is internalized by the parser: one string however often the message holds it.
    if (this.#counting) this.held += end - start <= INTERNALIZED_LENGTH ? this.#shapes.internalized(this.text.slice(start, end), wide) : bytes;
  }

  /** Walks a string; returns where its content starts and ends, whether it has escapes, and whether a character may be beyond Latin-1 (a `\u` escape may). */
  string(): { start: number; end: number; escaped: boolean; wide: boolean } {
    const text = this.text;
    if (text.charCodeAt(this.at) !== 0x22) throw new NotWalkable();
    const start = this.at + 1;
    let escaped = false;
    let wide = false;
    let i = start;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        const e = text.charCodeAt(i + 1);
        if (e === 0x75) {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new NotWalkable();
          wide = true;
          i += 6;
        } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i += 2;
        else throw new NotWalkable();
        continue;
      }
      // Control characters (and the end of the text, NaN) are not JSON.
      if (!(c >= 0x20)) throw new NotWalkable();
      if (c > 0xff) wide = true;
      i++;
    }
    this.at = i + 1;
    return { start, end: i, escaped, wide };
  }

  /** A member name as the parser reads it (escapes resolved only where there are some). */
  key(): string {
    const { start, end, escaped } = this.string();
    return escaped ? (JSON.parse(this.text.slice(start - 1, end + 1)) as string) : this.text.slice(start, end);
  }

  private number(canonical: boolean): void {
    const text = this.text;
    const start = this.at;
    let i = start;
    if (text.charCodeAt(i) === 0x2d) i++;
    const first = text.charCodeAt(i);
    if (first === 0x30) i++;
    else if (first >= 0x31 && first <= 0x39) while (isDigit(text.charCodeAt(i))) i++;
    else throw new NotWalkable();
    if (text.charCodeAt(i) === 0x2e) {
      if (!isDigit(text.charCodeAt(++i))) throw new NotWalkable();
      while (isDigit(text.charCodeAt(i))) i++;
    }
    if ((text.charCodeAt(i) | 0x20) === 0x65) {
      i++;
      if (text.charCodeAt(i) === 0x2b || text.charCodeAt(i) === 0x2d) i++;
      if (!isDigit(text.charCodeAt(i))) throw new NotWalkable();
      while (isDigit(text.charCodeAt(i))) i++;
    }
    this.at = i;
    const token = text.slice(start, i);
    if (CANONICAL_INT.test(token)) {
      if (token.length > 9) {
        this.estimate += COST.heapNumber;
        this.held += HELD_BYTES.heapNumber;
      }
      return;
    }
    this.estimate += COST.heapNumber;
    this.held += HELD_BYTES.heapNumber;
    if (!canonical) return;
    const n = Number(token);
    // -0, an integer beyond 2^53, 1e999: floats the server writes as `$float` tags (`-0.0`,
    // `"inf"`), copied so (unpacked, the tag is the same float the bare number was).
    const tagged = Object.is(n, -0) || !Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n));
    // `2.0`, `1e2`, `1.50`: copied as the server writes them (`2`, `100`, `1.5`), as a client got them before.
    const written = tagged ? writeJson(encodeValue(n)) : JSON.stringify(n);
    if (written === token || !this.#pieces) return;
    this.#pieces.push(text.slice(this.#copiedTo, start), written);
    this.#copiedTo = i;
  }

  /** Walks an array; `pairs`: each item must be a `[key, value]` array. Returns its number of items. */
  private array(depth: number, pairs: boolean): number {
    if (depth > MAX_NESTING) throw new NotWalkable();
    if (depth > MAX_PACKED_NESTING) this.builtWhole(`a value nested deeper than ${MAX_PACKED_NESTING} levels`);
    this.at++;
    this.estimate += COST.container;
    const outerTagged = this.#tagged;
    this.#tagged = false;
    let count = 0;
    if (this.peek() === 0x5d) this.at++;
    else {
      for (;;) {
        if (!pairs) this.value(depth);
        else if (this.peek() !== 0x5b) {
          this.builtWhole(MALFORMED);
          this.value(depth);
        } else if (this.array(depth + 1, false) !== 2) this.builtWhole(MALFORMED);
        count++;
        this.estimate += COST.item;
        const c = this.peek();
        this.at++;
        if (c === 0x5d) break;
        if (c !== 0x2c) throw new NotWalkable();
      }
    }
    // Holding a tag, it is copied as it is decoded (the parsed one let go).
    this.held += this.#tagged ? copiedArrayBytes(count) : HELD_BYTES.array + count * HELD_BYTES.slot;
    this.#tagged ||= outerTagged;
    return count;
  }

  private object(depth: number): void {
    if (depth > MAX_NESTING) throw new NotWalkable();
    if (depth > MAX_PACKED_NESTING) this.builtWhole(`a value nested deeper than ${MAX_PACKED_NESTING} levels`);
    const estimate = this.estimate;
    const held = this.held;
    const outerTagged = this.#tagged;
    const whole = this.whole;
    this.at++;
    this.estimate += COST.container;
    this.#tagged = false;
    const keys = this.#keys;
    const from = this.#keyCount;
    let tag: { estimate: number; held: number } | undefined;
    if (this.peek() === 0x7d) this.at++;
    else {
      for (;;) {
        this.skipSpace();
        const key = this.key();
        this.expect(0x3a);
        // A `$`-named first member may be a tag: walked as the decoder reads one, and counted both ways.
        if (this.#keyCount === from && key.startsWith('$')) tag = this.tagBody(key, depth, estimate, held);
        else this.value(depth);
        keys[this.#keyCount++] = key;
        this.estimate += COST.item + COST.member;
        const c = this.peek();
        this.at++;
        if (c === 0x7d) break;
        if (c !== 0x2c) throw new NotWalkable();
        // A `$`-named first member with others after it: a plain dict, rare enough to leave to the
        // decoder (and named so, not as the tag its first member looked like).
        if (tag && this.#keyCount === from + 1) {
          this.whole = whole;
          this.builtWhole('a dict whose first key starts with $');
        }
      }
    }
    const members = this.#keyCount - from;
    this.#keyCount = from;
    if (tag && members === 1) {
      // A tag: what the decoder makes of it (it has no member, no shape of its own).
      this.estimate = tag.estimate;
      this.held = tag.held;
      this.#tagged = true;
      return;
    }
    // A record, copied as it is decoded when it holds a tag (the parsed one let go).
    if (this.#counting) this.held += this.#shapes.record(keys, this.#tagged ? 'assigned' : 'parsed', from, from + members) + members * HELD_BYTES.slot;
    this.#tagged ||= outerTagged;
  }

  /**
   * Walks the value of a `$`-named first member, checked as the value codec's decoder checks a tag's
   * body: counted as a plain member's value, and returned, what the object would count as a tag
   * (one member, nothing else) from the `estimate` and `held` before it.
   */
  private tagBody(tag: string, depth: number, estimate: number, held: number): { estimate: number; held: number } {
    const c = this.peek();
    const start = this.at;
    const bodyEstimate = this.estimate;
    const bodyHeld = this.held;
    // What the tag's value counts of its body: all of it as walked, but for what is said below.
    let walked = true;
    // Held beside the body's: its object (a Float, a BigInt, a Buffer's header, a set...).
    let kept = HELD_TAG;
    switch (tag) {
      case '$bytes':
      case '$int': {
        if (c !== 0x22) {
          this.refuse(depth);
          break;
        }
        const { start: from, end, escaped, wide } = this.string();
        this.addString(from, end, wide);
        const body = this.text.slice(from, end);
        if (escaped) this.builtWhole(MALFORMED);
        // Checked as the decoder checks it (valueCodec.ts): one that would refuse it is left to it.
        else if (tag === '$bytes' ? !isBase64(body) : !INT_SPELLING.test(body) || tooManyIntDigits(body)) this.builtWhole(MALFORMED);
        // A Buffer or a BigInt, not the string: its header, and fewer bytes than its text.
        walked = false;
        kept += end - from;
        break;
      }
      case '$float':
        if (c === 0x22) {
          const { start: from, end, wide } = this.string();
          this.addString(from, end, wide);
          if (!isFloatWord(this.text.slice(from, end))) this.builtWhole(MALFORMED);
          walked = false;
        } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          this.number(false);
          kept = HELD_TAG - (this.held - bodyHeld);
        } else this.refuse(depth);
        break;
      case '$tuple':
      case '$set':
      case '$frozenset':
      case '$dict':
      case '$slice': {
        if (c !== 0x5b) {
          this.refuse(depth);
          break;
        }
        const count = this.array(depth + 1, tag === '$dict');
        if (tag === '$slice' && count !== 3) this.builtWhole(MALFORMED);
        // A set's or a Map's entries, beside the items' (a tuple's copy is no larger than the array it copies).
        if (tag === '$set' || tag === '$frozenset' || tag === '$dict') {
          return { estimate: estimate + COST.container + COST.tag + COST.item + (this.estimate - bodyEstimate) + count * COST.entry, held: this.held + kept + count * HELD_BYTES.tableEntry };
        }
        break;
      }
      case '$proxy':
        // Built, a proxy is the object service's one reference to its object: nothing of its own but its slot.
        this.refuse(depth, 'a $proxy');
        return { estimate: estimate + COST.item, held };
      case '$opaque':
        // Built, an opaque value is its tag and its bytes.
        this.refuse(depth, 'a $opaque');
        return { estimate: estimate + COST.container + COST.tag + COST.item + (this.at - start), held: held + kept + (this.at - start) };
      default:
        // `$attachment` needs the session; an unknown tag is refused by the decoder.
        this.refuse(depth, (VALUE_TAGS as readonly string[]).includes(tag) ? `a ${tag}` : MALFORMED);
    }
    return {
      estimate: estimate + COST.container + COST.tag + COST.item + (walked ? this.estimate - bodyEstimate : 0),
      held: held + kept + (walked ? this.held - bodyHeld : 0),
    };
  }

  /** Marks what was walked as one to build whole, for this reason (the first one kept). */
  private builtWhole(why: string): void {
    this.packable = false;
    this.whole ??= why;
  }

  /** Walks a tag's body that cannot be kept as text. */
  private refuse(depth: number, why = MALFORMED): void {
    this.builtWhole(why);
    this.value(depth);
  }

}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
