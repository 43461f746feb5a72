/**
 * The params of `object/call` written straight as JSON text, the members in the order of
 * `CallParams` (common/protocol; a member added there is written here too): a call then builds
 * no params object for JSON.stringify to walk, the commonest arguments, one number or one string,
 * are written without walking an array either, and the text's UTF-8 length is added up from its
 * parts, so that framing it need not measure it again.
 */

import type { Token } from '../common/protocol';
import { utf8Bytes, writeJson } from '../common/jsonText';
import { encodeValue, type ProxyCodec } from '../common/valueCodec';
import { ManagerError } from './errors';

/** A text and its length in UTF-8 bytes. */
interface MeasuredText {
  readonly text: string;
  readonly bytes: number;
}

/** Writes the params of calls; {@link bytes} is the UTF-8 length of the last text written. */
export class CallTextWriter {
  /** UTF-8 bytes of the last text {@link write} returned. */
  bytes = 0;
  /** `{"id":...,"method":...` for each object and method called, written once. */
  readonly #heads = new WeakMap<Token, Map<string, MeasuredText>>();

  constructor(private readonly codec: ProxyCodec) {}

  /**
   * The JSON text of an `object/call`'s params. Each value is encoded and written in one step, as
   * `writeJson` needs (a negative zero keeps its sign).
   * @throws what encoding throws (a ValueCodecError for a function among the arguments, say).
   */
  write(token: Token, method: string, args: readonly unknown[], kwargs: Record<string, unknown> | undefined, ack: { visibilityTimeout?: number } | undefined, attachments: Buffer[] | undefined): string {
    const head = this.#head(token, method);
    let text = head.text;
    let bytes = head.bytes;
    if (args.length) {
      const json = argsJson(args, this.codec, attachments);
      text += `,"args":${json}`;
      bytes += 8 + utf8Bytes(json);
    }
    if (kwargs) {
      const json = writeJson(encodeKeywords(kwargs, this.codec, attachments));
      text += `,"kwargs":${json}`;
      bytes += 10 + utf8Bytes(json);
    }
    if (ack) {
      text += ',"ack":true';
      bytes += 11;
      // Absent, or a value JSON leaves out (as it would leave out the member of an object): not written.
      const json = JSON.stringify(ack.visibilityTimeout) as string | undefined;
      if (json !== undefined) {
        text += `,"visibilityTimeout":${json}`;
        bytes += 21 + utf8Bytes(json);
      }
    }
    this.bytes = bytes + 1;
    return `${text}}`;
  }

  #head(token: Token, method: string): MeasuredText {
    let heads = this.#heads.get(token);
    if (!heads) this.#heads.set(token, (heads = new Map()));
    let head = heads.get(method);
    if (!head) {
      const text = `{"id":${JSON.stringify(token.id)},"method":${JSON.stringify(method)}`;
      heads.set(method, (head = { text, bytes: Buffer.byteLength(text) }));
    }
    return head;
  }
}

/** The arguments as JSON text: one that is its own JSON directly, any others through the value codec. */
function argsJson(args: readonly unknown[], codec: ProxyCodec, attachments: Buffer[] | undefined): string {
  if (args.length === 1) {
    const only = args[0];
    // What the codec passes through untouched: a string, a boolean, a finite number that is not an
    // integer beyond the safe ones and not a negative zero (those are tagged as floats).
    if (typeof only === 'string') return `[${JSON.stringify(only)}]`;
    if (typeof only === 'number' && Number.isFinite(only) && (Number.isSafeInteger(only) ? !Object.is(only, -0) : !Number.isInteger(only))) return `[${only}]`;
    if (typeof only === 'boolean') return only ? '[true]' : '[false]';
  }
  return writeJson(encodeValue(args, codec, attachments));
}

/** Encodes keyword arguments member by member; a name starting with `$` cannot be sent. */
export function encodeKeywords(kwargs: Record<string, unknown>, codec: ProxyCodec, attachments?: Buffer[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(kwargs)) {
    if (name.startsWith('$')) throw new ManagerError(`keyword argument names may not start with $: ${JSON.stringify(name)}`);
    Object.defineProperty(out, name, { value: encodeValue(kwargs[name], codec, attachments), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
