/**
 * Values the server keeps encoded: a dense argument (`[{}, {}, …]`: a few bytes of wire, tens to
 * hundreds of bytes each as JavaScript objects) is kept as its JSON text ({@link PackedJson},
 * `jsonrpc/packedArguments.ts`) or as a pickle of its own (`python/pickle/picklePacking.ts`), so
 * that reading a message holds at most 4 times its bytes plus a fixed allowance (SPEC §19). It
 * stays encoded while the server only holds it (a queue's item, a list's appended item, a dict's
 * value, a Value's) and becomes the value it stands for, through {@link unpacked} alone, when
 * something must look inside it: a method that reads its argument, a comparison, a repr, a client
 * of the other protocol. A client of its own protocol gets it spliced into its answer as it came.
 */

import { EncodedValue, RawJson } from '../common/jsonText';
import { decodeValue } from '../common/valueCodec';
import type { Signature } from './calls/methodDispatch';

/**
 * An argument kept as its JSON text: a copy in the value codec's canonical wire form, checked
 * when it was read to decode as a plain value (no `$proxy`, `$opaque` or `$attachment` in it).
 */
export class PackedJson extends RawJson {
  readonly #text: string;

  constructor(text: string) {
    super();
    this.#text = text;
  }

  override get text(): string {
    return this.#text;
  }

  /** The value the text stands for, as decoding the argument would have made it. */
  override materialise(): unknown {
    return decodeValue(JSON.parse(this.#text), { boxFloats: true });
  }
}

/** Whether a value is kept encoded (as JSON text, or as a pickle: `picklePacking.ts`). */
export function isPacked(value: unknown): value is EncodedValue {
  return value instanceof EncodedValue;
}

/** The value itself: a value kept encoded becomes the value it stands for; any other is returned as it is. */
export function unpacked(value: unknown): unknown {
  return value instanceof EncodedValue ? value.materialise() : value;
}

/**
 * A call's arguments as a method gets them: each kept encoded is unpacked, except one bound by
 * position to a parameter its signature marks as held (`'=item'`: the method stores it without
 * looking inside). Keyword arguments are always unpacked. Returns the same objects when nothing
 * was kept encoded, which is every call but those carrying a dense argument.
 */
export function unpackedArguments(
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
  signature: Signature | undefined,
): [readonly unknown[], Readonly<Record<string, unknown>>] {
  let outArgs: unknown[] | undefined;
  for (let i = 0; i < args.length; i++) {
    if (!(args[i] instanceof EncodedValue) || signature?.params[i]?.held) continue;
    outArgs ??= args.slice();
    outArgs[i] = unpacked(args[i]);
  }
  let outKwargs: Record<string, unknown> | undefined;
  for (const key in kwargs) {
    if (!(kwargs[key] instanceof EncodedValue)) continue;
    outKwargs ??= { ...kwargs };
    // defineProperty: a keyword named __proto__ is a name like any other here.
    Object.defineProperty(outKwargs, key, { value: unpacked(kwargs[key]), enumerable: true, writable: true, configurable: true });
  }
  return [outArgs ?? args, outKwargs ?? kwargs];
}
