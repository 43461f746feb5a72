/**
 * The server's values as text a store can hold: the wire protocol's JSON value encoding (SPEC
 * 11), so that tuples, bytes, big ints, floats and Python dicts come back as they went in. A
 * reference to another shared object cannot be stored this way yet: it is refused with a clear
 * error rather than stored as something else.
 */

import { decodeValue, encodeValue, type DecodeOptions, type ProxyCodec } from '../../common/valueCodec';
import { writeJson } from '../../common/jsonText';
import { PyException } from '../exceptions';
import { SharedRef } from '../calls/sharedRef';

const storing: ProxyCodec = {
  encodeProxy(value) {
    if (value instanceof SharedRef) {
      throw new PyException('TypeError', 'a proxy cannot be stored in an object kept in Redis yet: store the data, or keep this object in a manager without --store');
    }
    return undefined;
  },
};

const reading: DecodeOptions = { boxFloats: true };

/** A value as stored text. @throws PyException TypeError for what cannot be stored. */
export function valueToText(value: unknown): string {
  return writeJson(encodeValue(value, storing));
}

/** Stored text back as the value it was. */
export function textToValue(text: string): unknown {
  return decodeValue(JSON.parse(text), reading);
}
