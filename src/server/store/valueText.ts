/**
 * The server's values as text a store can hold: the wire protocol's JSON value encoding (SPEC
 * 11), so that tuples, bytes, big ints, floats and Python dicts come back as they went in. A
 * reference to another shared object (a proxy stored in a dict, put on a queue) is stored as a
 * token the store's {@link ProxyCodec} makes and reads back.
 */

import { decodeValue, encodeValue, type ProxyCodec } from '../../common/valueCodec';
import { writeJson } from '../../common/jsonText';

/** A value as stored text. @throws PyException (from `refs`) or ValueCodecError for what cannot be stored. */
export function valueToText(value: unknown, refs: ProxyCodec): string {
  return writeJson(encodeValue(value, refs));
}

/** Stored text back as the value it was. */
export function textToValue(text: string, refs: ProxyCodec): unknown {
  return decodeValue(JSON.parse(text), { boxFloats: true, decodeProxy: refs.decodeProxy });
}
