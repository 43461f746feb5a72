/**
 * Reads the message a server receives most, a request written as the clients write it,
 * `{"jsonrpc":"2.0","id":7,"method":"object/call","params":{"id":"…","method":"put","args":[5]}}`,
 * without a `JSON.parse` of the whole: the envelope, the object's id and the method name are read
 * in place, an argument list of one integer too, and any other argument list is parsed alone. It
 * builds the same object `JSON.parse` would, so every check after it is the same; any text of
 * another shape, valid or not, is left to the full parse, which also reports what is wrong with it.
 */

import { signedDigitsEnd, signedIntegerAt } from '../../common/exactDigits';

const HEAD = '{"jsonrpc":"2.0","id":';
const METHOD = ',"method":"';
const PARAMS = '","params":{"id":"';
const CALLED = '","method":"';
const ARGS = '","args":';
const END = '"}}';
const CALL = 'object/call';
const CALL_PARAMS = `${METHOD}${CALL}${PARAMS}`;
/** Texts {@link recentText} keeps: the ids and method names of a program's busiest objects. */
const RECENT_TEXTS = 8;
/** The texts {@link recentText} read lately, the oldest replaced first ('' until filled: it stands for itself). */
const recent: string[] = new Array<string>(RECENT_TEXTS).fill('');
let nextRecent = 0;
/** Characters of the longest message whose texts {@link recentText} keeps. */
const RECENT_FROM_MOST = 1024;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * The request in `body` as `JSON.parse(body)` builds it, when it has the shape above (with or
 * without `args`, nothing else in its params); undefined for any other text.
 */
export function readQuickRequest(body: string): object | undefined {
  if (!body.startsWith(HEAD)) return undefined;
  const afterId = signedDigitsEnd(body, HEAD.length, body.length);
  if (afterId < 0) return undefined;
  let method: string;
  let objectStart: number;
  if (body.startsWith(CALL_PARAMS, afterId)) {
    // The request of nearly every message, its method and the start of its params checked at once.
    method = CALL;
    objectStart = afterId + CALL_PARAMS.length;
  } else {
    if (!body.startsWith(METHOD, afterId)) return undefined;
    const methodStart = afterId + METHOD.length;
    const methodEnd = plainStringEnd(body, methodStart);
    if (methodEnd < 0 || !body.startsWith(PARAMS, methodEnd)) return undefined;
    method = body.slice(methodStart, methodEnd);
    objectStart = methodEnd + PARAMS.length;
  }
  const objectEnd = plainStringEnd(body, objectStart);
  if (objectEnd < 0 || !body.startsWith(CALLED, objectEnd)) return undefined;
  const calledStart = objectEnd + CALLED.length;
  const calledEnd = plainStringEnd(body, calledStart);
  if (calledEnd < 0) return undefined;
  const objectId = recentText(body, objectStart, objectEnd);
  const called = recentText(body, calledStart, calledEnd);
  let args: unknown[] | undefined;
  if (!(calledEnd + END.length === body.length && body.endsWith(END))) {
    if (!body.startsWith(ARGS, calledEnd) || !body.endsWith('}}')) return undefined;
    args = readArgs(body, calledEnd + ARGS.length, body.length - 2);
    if (args === undefined) return undefined;
  }
  // Made whole at once: `args` added afterwards went to a property store of its own (garbage).
  const params = args === undefined ? { id: objectId, method: called } : { id: objectId, method: called, args };
  return { jsonrpc: '2.0', id: signedIntegerAt(body, HEAD.length, afterId), method, params };
}

/**
 * The text from `from` to `to`, as the same string as the last time it was read when it is one of
 * the few read lately (the ids of the objects called and their methods' names): a string read
 * again is one more to allocate, and to hash again where it is looked up by (the object table,
 * a method's name).
 */
function recentText(body: string, from: number, to: number): string {
  const length = to - from;
  for (let k = 0; k < RECENT_TEXTS; k++) {
    const text = recent[k];
    if (text.length === length && body.startsWith(text, from)) return text;
  }
  const text = body.slice(from, to);
  // Kept only from a short message: a part of a string may keep the whole of it alive.
  if (body.length <= RECENT_FROM_MOST) {
    recent[nextRecent] = text;
    nextRecent = (nextRecent + 1) % RECENT_TEXTS;
  }
  return text;
}

/** The argument list from `from` to `to`: one integer read in place, any other parsed alone; undefined when it is not one JSON array. */
function readArgs(body: string, from: number, to: number): unknown[] | undefined {
  if (body.charCodeAt(from) !== OPEN_BRACKET || body.charCodeAt(to - 1) !== CLOSE_BRACKET) return undefined;
  if (signedDigitsEnd(body, from + 1, to) === to - 1) return [signedIntegerAt(body, from + 1, to - 1)];
  const text = body.slice(from, to);
  // Another member after the list (`[1],"kwargs":{…}`) is not one array: the full parse reads it.
  // An array holding `],"` itself is read by the full parse as well.
  if (text.includes('],"')) return undefined;
  try {
    const args: unknown = JSON.parse(text);
    return Array.isArray(args) ? args : undefined;
  } catch {
    return undefined;
  }
}

/** Where the string starting at `from` ends (its closing quote), when it has no escape and no control character; -1 otherwise. */
function plainStringEnd(text: string, from: number): number {
  for (let at = from; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c === QUOTE) return at;
    if (c === BACKSLASH || c < 0x20) return -1;
  }
  return -1;
}
