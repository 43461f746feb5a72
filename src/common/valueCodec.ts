/**
 * The protocol's value encoding: plain JSON, plus a few tagged objects for what JSON cannot say.
 *
 * A JSON object with exactly one member whose name starts with `$` is a tag:
 *
 * | tag          | meaning                                  | TypeScript value            |
 * |--------------|------------------------------------------|-----------------------------|
 * | `$bytes`     | base64 of a byte string                  | `Uint8Array` (Buffer)       |
 * | `$int`       | a decimal integer string, any size       | `bigint`                    |
 * | `$float`     | a float JSON cannot mark as one          | `number` (or {@link Float}) |
 * | `$tuple`     | an array that is a tuple                 | {@link tuple} (frozen)      |
 * | `$set`       | an array of set members                  | `Set`                       |
 * | `$frozenset` | an array of frozenset members            | {@link FrozenSet}           |
 * | `$dict`      | `[key, value]` pairs, keys of any type   | `Map`                       |
 * | `$opaque`    | a value only its sender's language reads | {@link OpaqueValue}         |
 * | `$proxy`     | a reference to a shared object (a token) | a proxy (client) / ref      |
 * | `$slice`     | `[start, stop, step]`, each int or null  | {@link Slice}               |
 * | `$attachment`| the index of a frame's attachment (5.1)  | `Uint8Array` (Buffer)       |
 *
 * Every other JSON value means itself. A dict whose keys are all strings is a plain JSON object,
 * except one with a single `$`-named key, which is sent as `$dict` so it is never read as a tag.
 * Encoding and decoding copy only what they change: plain JSON passes through untouched.
 */

import type { Token } from './protocol';
import { EncodedValue, RawJson, noteNegativeZero } from './jsonText';
import { Float, FrozenSet, OpaqueValue, Slice, isTuple, tupleFrom } from './valueTypes';
import { ValueCodecError } from './valueCodecError';
import { attachmentOutOfRange } from './attachments';

/** The tag names, in the order the spec lists them. */
export const VALUE_TAGS = ['$bytes', '$int', '$float', '$tuple', '$set', '$frozenset', '$dict', '$opaque', '$proxy', '$slice', '$attachment'] as const;
export type ValueTag = (typeof VALUE_TAGS)[number];
const tagSet: ReadonlySet<string> = new Set(VALUE_TAGS);



/** How `$proxy` values are turned into and out of application values. */
export interface ProxyCodec {
  /**
   * Decoding: make something of a token (a proxy on the client, an object ref on the server). To
   * refuse it, throw a ValueCodecError whose message has `{at}` where the place should go.
   */
  decodeProxy?(token: Token): unknown;
  /** Encoding: the token of a value, or undefined if it is not a proxy/ref. */
  encodeProxy?(value: object): Token | undefined;
}

/** Options for {@link decodeValue}. */
export interface DecodeOptions extends ProxyCodec {
  /** Keep integral floats boxed as {@link Float} (the server does, to give Python its floats back). */
  boxFloats?: boolean;
  /**
   * Checks each `$opaque` value decoded; to refuse it, throw a ValueCodecError whose message has
   * `{at}` where the place should go (a server that stores no opaque pickles does).
   */
  checkOpaque?(value: OpaqueValue): void;
}

/** Deepest nesting of a value the codec encodes or decodes (a tag counts a level). */
export const MAX_DEPTH = 512;

/** Most digits of a `$int` (Python's default `sys.int_info.default_max_str_digits`). */
export const MAX_INT_DIGITS = 4300;

/** Whether `text` is base64 as a `$bytes` body must be (SPEC 11.2). */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

/** The `$float` bodies written as words (SPEC 11.3): the floats JSON has no number for. */
const FLOAT_WORDS: ReadonlyMap<string, number> = new Map([
  ['nan', NaN],
  ['inf', Infinity],
  ['-inf', -Infinity],
]);

/** Whether `text` is one of the words a `$float` body may be instead of a number. */
export function isFloatWord(text: string): boolean {
  return FLOAT_WORDS.has(text);
}

/** How a `$int` body is spelt (SPEC 11.2: one spelling per int): no leading zeros, no "-0". */
export const INT_SPELLING = /^(0|-?[1-9]\d*)$/;

/** Whether a `$int` body spelt as {@link INT_SPELLING} has more than {@link MAX_INT_DIGITS} digits. */
export function tooManyIntDigits(body: string): boolean {
  return (body[0] === '-' ? body.length - 1 : body.length) > MAX_INT_DIGITS;
}

/**
 * The bytes of a base64 text, or undefined when it is not base64. Decoding and encoding back in
 * native code proves the common (canonical) text valid several times faster than the pattern,
 * which matters for large byte strings; any other text is checked by the pattern as before.
 */
function base64Bytes(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') === text || isBase64(text)) return bytes;
  return undefined;
}

/**
 * Encodes an application value for the wire. Plain JSON-safe values are returned as they are.
 * Given `attachments` (a peer granted `binaryAttachments`, SPEC 5.1), each byte string is added
 * to it and written as `{"$attachment": index}`; without, as `$bytes` base64.
 * @throws ValueCodecError for what cannot be sent (functions, symbols, cycles, too deep nesting).
 */
export function encodeValue(value: unknown, codec?: ProxyCodec, attachments?: Buffer[]): unknown {
  return encode(value, codec, 0, attachments);
}

const tooDeep = () => new ValueCodecError(`value nested deeper than ${MAX_DEPTH} levels {at}`);

function encode(value: unknown, codec: ProxyCodec | undefined, depth: number, attachments: Buffer[] | undefined): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // A negative zero is a float (no int has a sign at zero): tagged, so that its sign survives (SPEC 11.3).
      if (Object.is(value, -0)) {
        if (depth > MAX_DEPTH) throw tooDeep();
        return floatTag(value);
      }
      if (Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))) return value;
      // A tag is one level deeper than a bare number: count it as the decoder will.
      if (depth > MAX_DEPTH) throw tooDeep();
      // A JavaScript number is a double: only safe integers can be sent as ints. Anything integral
      // beyond them would read back as a different int, so it goes as the float it is.
      if (Number.isFinite(value)) return { $float: value };
      return { $float: Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf' };
    case 'bigint': {
      if (depth > MAX_DEPTH) throw tooDeep();
      const digits = value.toString();
      // The receiver refuses more digits (see MAX_INT_DIGITS): say so here, at the sender.
      if (tooManyIntDigits(digits)) throw new ValueCodecError(`an int {at} has more than ${MAX_INT_DIGITS} digits`);
      return { $int: digits };
    }
    case 'undefined':
      return null;
    case 'object':
      if (value === null) return null;
      if (depth > MAX_DEPTH) throw tooDeep();
      return encodeObject(value, codec, depth + 1, attachments);
    default:
      throw new ValueCodecError(`cannot encode a ${typeof value} {at}`);
  }
}

/** `{"$float": n}` for a finite float; a negative zero is noted so that its sign is written (SPEC 11.3). */
function floatTag(n: number): { $float: number } {
  if (Object.is(n, -0)) noteNegativeZero();
  return { $float: n };
}

function encodeObject(value: object, codec: ProxyCodec | undefined, depth: number, attachments: Buffer[] | undefined): unknown {
  if (Array.isArray(value)) {
    const items = encodeArray(value, codec, depth, attachments);
    return isTuple(value) ? { $tuple: items } : items;
  }
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return attachments ? { $attachment: attachments.push(bytes) - 1 } : { $bytes: bytes.toString('base64') };
  }
  if (value instanceof Float) return Number.isFinite(value.value) ? floatTag(value.value) : encode(value.value, codec, depth, attachments);
  if (value instanceof Map) {
    const pairs: unknown[] = [];
    let i = 0;
    for (const [k, v] of value) {
      let key: unknown;
      try {
        key = encode(k, codec, depth, attachments);
      } catch (error) {
        throw step(error, `.keys[${i}]`);
      }
      try {
        pairs.push([key, encode(v, codec, depth, attachments)]);
      } catch (error) {
        throw step(error, `[${i}]`);
      }
      i++;
    }
    return { $dict: pairs };
  }
  if (value instanceof Set) {
    const items = encodeArray([...value], codec, depth, attachments);
    return value instanceof FrozenSet ? { $frozenset: items } : { $set: items };
  }
  if (value instanceof Slice) return { $slice: encodeArray([value.start, value.stop, value.step], codec, depth, attachments) };
  if (value instanceof OpaqueValue) {
    return { $opaque: { lang: value.lang, type: value.type, data: Buffer.from(value.data).toString('base64') } };
  }
  const token = codec?.encodeProxy?.(value);
  if (token) return { $proxy: token };
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // Wire text already (an argument the server kept encoded): written as it is.
    if (value instanceof RawJson) return value;
    // Kept in another encoding (a pickle): written as the value it stands for.
    if (value instanceof EncodedValue) return encode(value.materialise(), codec, depth, attachments);
    return encode((value as { toJSON(): unknown }).toJSON(), codec, depth, attachments);
  }
  return encodeRecord(value as Record<string, unknown>, codec, depth, attachments);
}

/** Adds a step to a codec error passing through a container; other errors pass unchanged. */
function step(error: unknown, where: string): unknown {
  if (error instanceof ValueCodecError) error.within(where);
  return error;
}

function encodeArray(items: readonly unknown[], codec: ProxyCodec | undefined, depth: number, attachments: Buffer[] | undefined): unknown[] {
  let out: unknown[] | undefined;
  let i = 0;
  try {
    for (; i < items.length; i++) {
      const item = items[i];
      const encoded = encode(item, codec, depth, attachments);
      if (out) out.push(encoded);
      else if (encoded !== item) out = items.slice(0, i).concat([encoded]) as unknown[];
    }
  } catch (error) {
    throw step(error, `[${i}]`);
  }
  return out ?? (items as unknown[]);
}

function encodeRecord(record: Record<string, unknown>, codec: ProxyCodec | undefined, depth: number, attachments: Buffer[] | undefined): unknown {
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    // A one-member dict named like a tag would be read as a tag: say it as $dict instead.
    try {
      return { $dict: [[keys[0], encode(record[keys[0]], codec, depth, attachments)]] };
    } catch (error) {
      throw step(error, `.${keys[0]}`);
    }
  }
  let out: Record<string, unknown> | undefined;
  const plain = Object.getPrototypeOf(record) === Object.prototype;
  let i = 0;
  try {
    for (; i < keys.length; i++) {
      const key = keys[i];
      const item = record[key];
      if (typeof item === 'function' || typeof item === 'symbol') throw new ValueCodecError(`cannot encode a ${typeof item} {at}`);
      const encoded = encode(item, codec, depth, attachments);
      if (!out && (encoded !== item || !plain)) {
        out = {};
        for (let j = 0; j < i; j++) setOwn(out, keys[j], record[keys[j]]);
      }
      if (out) setOwn(out, key, encoded);
    }
  } catch (error) {
    throw step(error, `.${keys[i]}`);
  }
  return out ?? record;
}

/**
 * Decodes a wire value into an application value.
 * @throws ValueCodecError naming the unknown or malformed tag and where it was.
 */
export function decodeValue(value: unknown, options?: DecodeOptions): unknown {
  return decode(value, options, 0);
}

function decode(value: unknown, options: DecodeOptions | undefined, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) throw tooDeep();
  if (Array.isArray(value)) return decodeArray(value, options, depth + 1);
  const record = value as Record<string, unknown>;
  let onlyKey: string | undefined;
  let count = 0;
  for (const key in record) {
    if (count++ === 0) onlyKey = key;
    else break;
  }
  if (count === 1 && onlyKey!.startsWith('$')) return decodeTag(onlyKey!, record[onlyKey!], options, depth + 1);
  let out: Record<string, unknown> | undefined;
  const keys = Object.keys(record);
  let i = 0;
  try {
    for (; i < keys.length; i++) {
      const item = record[keys[i]];
      const decoded = decode(item, options, depth + 1);
      if (!out && decoded !== item) {
        out = {};
        for (let j = 0; j < i; j++) setOwn(out, keys[j], record[keys[j]]);
      }
      if (out) setOwn(out, keys[i], decoded);
    }
  } catch (error) {
    throw step(error, `.${keys[i]}`);
  }
  return out ?? record;
}

function decodeArray(items: unknown[], options: DecodeOptions | undefined, depth: number): unknown[] {
  let out: unknown[] | undefined;
  let i = 0;
  try {
    for (; i < items.length; i++) {
      const item = items[i];
      const decoded = decode(item, options, depth);
      if (out) out.push(decoded);
      else if (decoded !== item) out = items.slice(0, i).concat([decoded]);
    }
  } catch (error) {
    throw step(error, `[${i}]`);
  }
  return out ?? items;
}

/** Sets a member even when it is named `__proto__`, which plain assignment would treat as the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function fail(tag: string, expected: string): never {
  throw new ValueCodecError(`${tag} {at} must be ${expected}`);
}

function refuse(template: string): never {
  throw new ValueCodecError(template);
}

function decodeTag(tag: string, body: unknown, options: DecodeOptions | undefined, depth: number): unknown {
  switch (tag) {
    case '$bytes':
      return (typeof body === 'string' && base64Bytes(body)) || fail(tag, 'a base64 string');
    case '$attachment':
      // Bound to its Buffer when the frame's attachments were resolved (attachments.ts); a number left is an index the frame does not have.
      return body instanceof Uint8Array ? body : refuse(attachmentOutOfRange(body, 0, ' {at}'));
    case '$int':
      // One spelling per int (SPEC 11.2): no leading zeros, no "-0".
      if (typeof body !== 'string' || !INT_SPELLING.test(body)) fail(tag, 'a string of decimal digits without leading zeros ("0", "-12", not "007" or "-0")');
      // Converting digits is superlinear: bound it as Python does (CVE-2020-10735), at 4300 digits.
      if (tooManyIntDigits(body)) throw new ValueCodecError(`$int {at} has more than ${MAX_INT_DIGITS} digits`);
      return BigInt(body);
    case '$float':
      return decodeFloat(body, options);
    case '$tuple':
      if (!Array.isArray(body)) fail(tag, 'an array');
      return tupleFrom(decodeArray(body, options, depth).slice());
    case '$set':
    case '$frozenset': {
      if (!Array.isArray(body)) fail(tag, 'an array');
      const items = decodeArray(body, options, depth);
      return tag === '$set' ? new Set(items) : new FrozenSet(items);
    }
    case '$dict': {
      if (!Array.isArray(body)) fail(tag, 'an array of [key, value] pairs');
      const map = new Map<unknown, unknown>();
      for (let i = 0; i < body.length; i++) {
        const pair = body[i];
        if (!Array.isArray(pair) || pair.length !== 2) throw step(new ValueCodecError(`${tag} {at} must be an array of [key, value] pairs`), `[${i}]`);
        let key: unknown;
        try {
          key = decode(pair[0], options, depth);
        } catch (error) {
          throw step(error, `.keys[${i}]`);
        }
        try {
          map.set(key, decode(pair[1], options, depth));
        } catch (error) {
          throw step(error, `[${i}]`);
        }
      }
      return map;
    }
    case '$opaque': {
      const o = body as Record<string, unknown> | null;
      if (typeof o !== 'object' || o === null || typeof o.lang !== 'string' || o.lang === '' || typeof o.type !== 'string' || typeof o.data !== 'string' || !isBase64(o.data)) {
        fail(tag, 'an object {lang, type, data} with data in base64');
      }
      const opaque = new OpaqueValue(o.lang as string, o.type as string, Buffer.from(o.data as string, 'base64'));
      options?.checkOpaque?.(opaque);
      return opaque;
    }
    case '$slice': {
      if (!Array.isArray(body) || body.length !== 3) fail(tag, 'an array [start, stop, step]');
      const [start, stop, step] = decodeArray(body, options, depth);
      return new Slice(start, stop, step);
    }
    case '$proxy': {
      const t = body as Record<string, unknown> | null;
      if (typeof t !== 'object' || t === null || typeof t.id !== 'string' || typeof t.typeid !== 'string' || !Array.isArray(t.exposed)) {
        fail(tag, 'a token {id, typeid, exposed}');
      }
      if (!options?.decodeProxy) throw new ValueCodecError('$proxy {at} is not accepted here');
      return options.decodeProxy(t as unknown as Token);
    }
    default:
      if (tagSet.has(tag)) throw new Error(`unhandled tag ${tag}`);
      throw new ValueCodecError(`unknown value tag ${JSON.stringify(tag)} {at} (a dict with one $-named key must be sent as $dict)`);
  }
}

function decodeFloat(body: unknown, options: DecodeOptions | undefined): number | Float {
  let n: number;
  if (typeof body === 'number') n = body;
  else if (typeof body === 'string' && FLOAT_WORDS.has(body)) n = FLOAT_WORDS.get(body)!;
  else fail('$float', 'a number or "nan", "inf", "-inf"');
  return options?.boxFloats && Number.isInteger(n) ? new Float(n) : n;
}
