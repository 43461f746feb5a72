/**
 * How one JSON-RPC session's values cross the wire: arguments become the server's values (a
 * `$proxy` a reference to the live object it names), results go back in the value codec's form
 * (a new object or a stored reference as a `$proxy` the session holds), and protocol answers,
 * already in wire form, go as they are.
 */

import type { OutgoingMessage } from '../../common/framing';
import { utf8Bytes, writeJson } from '../../common/jsonText';
import type { DeliveryResult } from '../../common/protocol';
import { decodeValue, encodeValue, type DecodeOptions, type ProxyCodec } from '../../common/valueCodec';
import { Delivery } from '../builtins/deliveries';
import { ProxyResult, type ArgumentReader, type ObjectService } from '../calls/objectService';
import type { RequestId, SessionHost } from '../calls/sessionCore';
import { SharedRef } from '../calls/sharedRef';
import { refuseOpaquePickle } from '../opaquePickles';
import { decodeKeywords } from './paramChecks';

/** A protocol result already in wire form (inspection results carry encoded values): sent as is. */
export class WireResult {
  constructor(readonly json: unknown) {}
}

const EMPTY_ARGS: readonly unknown[] = Object.freeze([]);
const EMPTY_KWARGS: Readonly<Record<string, unknown>> = Object.freeze({});
const EMPTY_ATTACHMENTS: readonly Buffer[] = Object.freeze([]);
/** An answer's text around its id and its result, and the UTF-8 bytes of those parts (the closing brace's included). */
const ANSWER_HEAD = '{"jsonrpc":"2.0","id":';
const ANSWER_RESULT = ',"result":';
const ANSWER_BYTES = ANSWER_HEAD.length + ANSWER_RESULT.length + 1;

/** One session's conversions, made once per session so that a call allocates none of them. */
export class WireValues {
  /**
   * Arguments: floats keep their floatness; a `$proxy` becomes a reference to the live object it
   * names (nested proxies: a queue stored in a dict, a lock given to a Condition).
   */
  readonly argumentDecoding: DecodeOptions;
  /** A call's or a create's `args` and `kwargs`, as the object service reads them. */
  readonly reader: ArgumentReader<unknown[] | undefined, Record<string, unknown> | undefined>;
  /** Results: a new proxy is its token; a stored reference gives the session a reference of its own and goes as a `$proxy`. */
  readonly #resultEncoding: ProxyCodec;
  /**
   * Where a result's byte strings go once the client was granted `binaryAttachments` (SPEC 5.1);
   * undefined before. Reused while results carry no bytes, so they allocate nothing for it.
   */
  #attachments: Buffer[] | undefined;

  constructor(host: SessionHost, service: ObjectService, holder: string) {
    const decoding: DecodeOptions = {
      boxFloats: true,
      decodeProxy: (token) => service.argumentReference(token.id, token.typeid),
      checkOpaque: (value) => {
        if (!host.opaquePickles) refuseOpaquePickle(value, host.maxMessageValues);
      },
    };
    this.argumentDecoding = decoding;
    this.reader = {
      args: (args) => (args === undefined ? EMPTY_ARGS : (decodeValue(args, decoding) as unknown[])),
      kwargs: (kwargs) => (kwargs === undefined ? EMPTY_KWARGS : decodeKeywords(kwargs, decoding)),
      fallbacksTakeNoArguments: true,
    };
    this.#resultEncoding = {
      encodeProxy: (value) => {
        if (value instanceof ProxyResult) return host.table.tokenOf(value.entry);
        if (value instanceof SharedRef) return host.table.tokenOf(service.resultReference(value, holder));
        return undefined;
      },
    };
  }

  /** Whether results carry their bytes as attachments (the client was granted `binaryAttachments`). */
  get binaryAttachments(): boolean {
    return this.#attachments !== undefined;
  }

  set binaryAttachments(granted: boolean) {
    this.#attachments = granted ? [] : undefined;
  }

  /**
   * The answer to request `id` with result `value`: its JSON text and UTF-8 length, with
   * attachments when the result holds bytes and the client reads them.
   * @throws ValueCodecError as {@link result}.
   */
  answer(id: RequestId, value: unknown): OutgoingMessage {
    const attachments = this.#attachments;
    // Left over from a result that failed to encode halfway.
    if (attachments !== undefined) attachments.length = 0;
    const written = this.result(value, attachments) ?? null;
    const result = writeJson(written);
    const idText = typeof id === 'number' ? `${id}` : JSON.stringify(id);
    const json = `${ANSWER_HEAD}${idText}${ANSWER_RESULT}${result}}`;
    // Its UTF-8 length, added up from its parts: framing it then measures (and flattens) nothing.
    // A number's text (an id, a queue's item) is ASCII: nothing to look at.
    const bytes = ANSWER_BYTES + (typeof id === 'number' ? idText.length : utf8Bytes(idText)) + (typeof written === 'number' || written === null ? result.length : utf8Bytes(result));
    if (attachments === undefined || attachments.length === 0) return { json, attachments: EMPTY_ATTACHMENTS, bytes };
    this.#attachments = [];
    return { json, attachments, bytes };
  }

  /**
   * The `result` member of an answer: protocol data as it is; a delivery as protocol data around
   * its item (SPEC 20.3); any other result as a value. @throws ValueCodecError for a value the
   * codec cannot carry.
   */
  result(value: unknown, attachments?: Buffer[]): unknown {
    if (value instanceof WireResult) return value.json;
    if (value instanceof Delivery) {
      const delivery: DeliveryResult = { deliveryId: value.deliveryId, value: encodeValue(value.value, this.#resultEncoding, attachments), redelivered: value.redelivered, deliveryCount: value.deliveryCount };
      return delivery;
    }
    return encodeValue(value, this.#resultEncoding, attachments);
  }
}
