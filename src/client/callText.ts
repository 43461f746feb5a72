/**
 * The params of `object/call` written straight as JSON text, the members in the order of
 * `CallParams` (common/protocol; a member added there is written here too): a call then builds
 * no params object for JSON.stringify to walk, and the commonest arguments, one number or one
 * string, are written without walking an array either.
 */

import { writeJson } from '../common/jsonText';
import { encodeValue, type ProxyCodec } from '../common/valueCodec';
import { ManagerError } from './errors';

/**
 * The JSON text of an `object/call`'s params. Each value is encoded and written in one step, as
 * `writeJson` needs (a negative zero keeps its sign).
 * @throws what encoding throws (a ValueCodecError for a function among the arguments, say).
 */
export function callParamsJson(
  objectId: string,
  method: string,
  args: readonly unknown[],
  kwargs: Record<string, unknown> | undefined,
  ack: { visibilityTimeout?: number } | undefined,
  codec: ProxyCodec,
  attachments: Buffer[] | undefined,
): string {
  let text = `{"id":${JSON.stringify(objectId)},"method":${JSON.stringify(method)}`;
  if (args.length) text += `,"args":${argsJson(args, codec, attachments)}`;
  if (kwargs) text += `,"kwargs":${writeJson(encodeKeywords(kwargs, codec, attachments))}`;
  if (ack) {
    text += ',"ack":true';
    if (ack.visibilityTimeout !== undefined) text += `,"visibilityTimeout":${JSON.stringify(ack.visibilityTimeout)}`;
  }
  return `${text}}`;
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
