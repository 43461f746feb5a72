/**
 * One pass over a JSON value's text that builds nothing: it checks the syntax, estimates what the
 * value would cost as JavaScript objects once parsed and decoded, tells whether it may be kept as
 * text (`packedValues.ts`: every tag in it well formed, none that needs the session — `$proxy`,
 * `$attachment` — or a check at decoding — `$opaque`), and can copy it in the value codec's
 * canonical form (each number written as the server would write the number it reads). Linear in
 * the text; recursion only as deep as {@link MAX_NESTING}.
 */

import { INT_SPELLING, isBase64, isFloatWord, tooManyIntDigits } from '../common/valueCodec';
import { MAX_EXACT_DIGITS } from '../common/exactDigits';

/** Nesting beyond which a text is left to the parser (which refuses beyond the codec's depth anyway). */
const MAX_NESTING = 256;

/**
 * Estimated bytes of V8 heap per part of a parsed and decoded value, on the high side of what
 * `test/server/decode-memory.test.ts` measures (an empty object 56 B, an array slot 8 B, a
 * `$bytes` value some 230 B, a boxed number 16 B): an estimate that errs high only keeps more
 * values as text, never fewer.
 */
const COST = { container: 64, item: 8, string: 16, heapNumber: 16, tag: 256 } as const;

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
  /** Whether all walked since the last {@link reset} may be kept as text. */
  packable = true;
  /** The canonical copy's pieces, when copying. */
  #pieces: string[] | undefined;
  #copiedTo = 0;

  constructor(readonly text: string) {}

  /** Starts a new tally (and, with `copy`, a new copy) at the current position. */
  reset(copy = false): void {
    this.estimate = 0;
    this.packable = true;
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
      this.string();
      this.estimate += COST.string;
      return;
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

  /** Walks a string; returns where its content starts and ends, and whether it has escapes. */
  string(): { start: number; end: number; escaped: boolean } {
    const text = this.text;
    if (text.charCodeAt(this.at) !== 0x22) throw new NotWalkable();
    const start = this.at + 1;
    let escaped = false;
    let i = start;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        const e = text.charCodeAt(i + 1);
        if (e === 0x75) {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new NotWalkable();
          i += 6;
        } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i += 2;
        else throw new NotWalkable();
        continue;
      }
      // Control characters (and the end of the text, NaN) are not JSON.
      if (!(c >= 0x20)) throw new NotWalkable();
      i++;
    }
    this.at = i + 1;
    return { start, end: i, escaped };
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
      if (token.length > 9) this.estimate += COST.heapNumber;
      return;
    }
    this.estimate += COST.heapNumber;
    if (!canonical) return;
    const n = Number(token);
    // -0, an integer beyond 2^53, 1e999: the server writes these as `$float` tags, and reads them
    // back as other values than the plain number: such a text is left to the decoder.
    if (Object.is(n, -0) || !Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n))) {
      this.packable = false;
      return;
    }
    // `2.0`, `1e2`, `1.50`: copied as the server writes them (`2`, `100`, `1.5`), as a client got them before.
    const written = JSON.stringify(n);
    if (written === token || !this.#pieces) return;
    this.#pieces.push(text.slice(this.#copiedTo, start), written);
    this.#copiedTo = i;
  }

  /** Walks an array; `pairs`: each item must be a `[key, value]` array. Returns its number of items. */
  private array(depth: number, pairs: boolean): number {
    if (depth > MAX_NESTING) throw new NotWalkable();
    this.at++;
    this.estimate += COST.container;
    if (this.peek() === 0x5d) {
      this.at++;
      return 0;
    }
    let count = 0;
    for (;;) {
      if (!pairs) this.value(depth);
      else if (this.peek() !== 0x5b) {
        this.packable = false;
        this.value(depth);
      } else if (this.array(depth + 1, false) !== 2) this.packable = false;
      count++;
      this.estimate += COST.item;
      const c = this.peek();
      this.at++;
      if (c === 0x5d) return count;
      if (c !== 0x2c) throw new NotWalkable();
    }
  }

  private object(depth: number): void {
    if (depth > MAX_NESTING) throw new NotWalkable();
    this.at++;
    this.estimate += COST.container;
    if (this.peek() === 0x7d) {
      this.at++;
      return;
    }
    const first = this.key();
    this.expect(0x3a);
    if (first.startsWith('$')) this.tagBody(first, depth);
    else this.value(depth);
    this.estimate += COST.item;
    for (;;) {
      const c = this.peek();
      this.at++;
      if (c === 0x7d) return;
      if (c !== 0x2c) throw new NotWalkable();
      // A `$`-named first member with others after it: a plain dict, rare enough to leave to the decoder.
      if (first.startsWith('$')) this.packable = false;
      this.skipSpace();
      this.key();
      this.expect(0x3a);
      this.value(depth);
      this.estimate += COST.item;
    }
  }

  /** The body of a one-member object named `tag`, checked as the value codec's decoder checks it. */
  private tagBody(tag: string, depth: number): void {
    this.estimate += COST.tag;
    const c = this.peek();
    switch (tag) {
      case '$bytes':
      case '$int': {
        if (c !== 0x22) return this.refuse(depth);
        const { start, end, escaped } = this.string();
        const body = this.text.slice(start, end);
        if (escaped) this.packable = false;
        // Checked as the decoder checks it (valueCodec.ts): one that would refuse it is left to it.
        else if (tag === '$bytes' ? !isBase64(body) : !INT_SPELLING.test(body) || tooManyIntDigits(body)) this.packable = false;
        return;
      }
      case '$float':
        if (c === 0x22) {
          const { start, end } = this.string();
          const body = this.text.slice(start, end);
          if (!isFloatWord(body)) this.packable = false;
          return;
        }
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(false);
        return this.refuse(depth);
      case '$tuple':
      case '$set':
      case '$frozenset':
        if (c !== 0x5b) return this.refuse(depth);
        this.array(depth + 1, false);
        return;
      case '$dict':
        if (c !== 0x5b) return this.refuse(depth);
        this.array(depth + 1, true);
        return;
      case '$slice':
        if (c !== 0x5b) return this.refuse(depth);
        if (this.array(depth + 1, false) !== 3) this.packable = false;
        return;
      default:
        // `$proxy` and `$attachment` need the session, `$opaque` the server's check; an unknown tag is refused by the decoder.
        return this.refuse(depth);
    }
  }

  /** Walks a value that cannot be kept as text. */
  private refuse(depth: number): void {
    this.packable = false;
    this.value(depth);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
