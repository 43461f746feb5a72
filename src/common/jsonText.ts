/**
 * JSON text that keeps a negative zero. `JSON.stringify(-0)` writes `0`, so a float `-0.0` sent
 * through the manager would come back as `0.0` (SPEC 11.3 asks for its sign to survive). The value
 * codec tells this module when it encodes a negative zero ({@link noteNegativeZero}); the next
 * {@link writeJson} then takes the slower path that writes every `-0` as `-0.0`. Values without
 * one, nearly all, keep the plain `JSON.stringify`, but a number or null (a get's item, a put's
 * result), which is written at once.
 *
 * It also splices a value that is JSON text already ({@link RawJson}: an argument the server kept
 * as its wire text) into the text written, verbatim, instead of building and writing it again.
 */

import { secureRandomBytes } from './hmac';

let negativeZeroPending = false;

/** The value codec encoded a negative zero: the next {@link writeJson} must keep its sign. */
export function noteNegativeZero(): void {
  negativeZeroPending = true;
}

/**
 * `JSON.stringify(value)`, keeping the sign of a negative zero the value codec encoded since the
 * last call. Encode and write a value in one synchronous step, as the sessions and the client do.
 */
export function writeJson(value: unknown): string {
  if (!negativeZeroPending) {
    // The commonest results, a number (a queue's item) and null (a put's), written without
    // JSON.stringify's call into the runtime, which costs some ten times as much: the same text
    // (`${-0}` is `0` as well, and JSON has no NaN or Infinity).
    if (typeof value === 'number') return Number.isFinite(value) ? `${value}` : 'null';
    if (value === null) return 'null';
  }
  splicing = true;
  let text: string;
  try {
    if (!negativeZeroPending) text = JSON.stringify(value);
    else {
      negativeZeroPending = false;
      text = writeJsonKeepingSigns(value);
    }
  } catch (error) {
    spliced.length = 0;
    throw error;
  } finally {
    splicing = false;
  }
  return spliced.length === 0 ? text : spliceRawTexts(text);
}

/** UTF-8 bytes of a JSON text: its length when every character is ASCII, as a short one's usually are (no call out of JavaScript). */
export function utf8Bytes(json: string): number {
  if (json.length > 64) return Buffer.byteLength(json);
  for (let i = 0; i < json.length; i++) if (json.charCodeAt(i) > 0x7f) return Buffer.byteLength(json);
  return json.length;
}

/**
 * A value a server keeps encoded (a dense argument, as the client sent it) and builds into the
 * value it stands for only when something looks inside it. It has no enumerable members, so the
 * value codec's decoder passes it through as it is, and its encoder writes the value it stands for.
 */
export abstract class EncodedValue {
  /** The value it stands for, built now. */
  abstract materialise(): unknown;

  /** Called by `JSON.stringify` outside the value codec: the value it stands for. */
  toJSON(): unknown {
    return this.materialise();
  }
}

/**
 * An encoded value that is JSON text in the value codec's wire form: {@link writeJson} writes the
 * text itself where the value is (one copy of it, not a tree of objects built and written again).
 */
export abstract class RawJson extends EncodedValue {
  /** The JSON text: a valid, complete value in the wire encoding (SPEC 11). */
  abstract get text(): string;

  /**
   * Called by `JSON.stringify`: inside {@link writeJson}, a marker that text is spliced over;
   * anywhere else, the wire value parsed from the text, so any JSON writer writes it right.
   */
  override toJSON(): unknown {
    if (!splicing) return JSON.parse(this.text);
    return `${markers().raw}${spliced.push(this) - 1}`;
  }
}

/** Whether a {@link writeJson} is running (its `JSON.stringify` collects raw texts into {@link spliced}). */
let splicing = false;
/** The raw texts of the running {@link writeJson}, by the number their marker ends with. */
const spliced: RawJson[] = [];

/** `text` with each raw text's marker (a JSON string) replaced by the raw text; clears {@link spliced}. */
function spliceRawTexts(text: string): string {
  try {
    return text.replace(markers().rawPattern, (_, index: string) => spliced[Number(index)].text);
  } finally {
    spliced.length = 0;
  }
}

/** `JSON.stringify(value)` with every number `-0` written as `-0.0`; visits every member. */
export function writeJsonKeepingSigns(value: unknown): string {
  let signed = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (!Object.is(v, -0)) return v;
    signed = true;
    return markers().negativeZero;
  });
  return signed ? text.replaceAll(markers().negativeZeroText, '-0.0') : text;
}

/**
 * The markers a text carries until {@link spliceRawTexts} or {@link writeJsonKeepingSigns} replaces them: random, so
 * that no string a client sends is one. Made on first use (a process that writes neither never reads random bytes
 * for them: a cold client's import does not).
 */
interface Markers {
  /** Stands for a raw text inside the text until it is spliced in. */
  raw: string;
  rawPattern: RegExp;
  /** Stands for -0 inside the text until it is replaced. */
  negativeZero: string;
  negativeZeroText: string;
}

let made: Markers | undefined;

function markers(): Markers {
  if (made) return made;
  const random = secureRandomBytes(24).toString('hex');
  const raw = `\u0000raw:${random.slice(0, 24)}:`;
  const negativeZero = `\u0000-0:${random.slice(24)}`;
  made = {
    raw,
    rawPattern: new RegExp(`${JSON.stringify(raw).slice(0, -1).replaceAll('\\', '\\\\')}(\\d+)"`, 'g'),
    negativeZero,
    negativeZeroText: JSON.stringify(negativeZero),
  };
  return made;
}
