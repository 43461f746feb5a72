/**
 * Reads the message a client receives most, a result written as the manager writes it,
 * `{"jsonrpc":"2.0","id":7,"result":VALUE}`, without parsing the whole text as JSON: the id and a
 * result of null, a boolean or an integer are read in place, any other result is parsed alone.
 * Anything else is left to a full parse, which also reports what is wrong with it.
 */

import { digitsEnd, integerAt, signedDigitsEnd, signedIntegerAt } from '../common/exactDigits';

const PREFIX = '{"jsonrpc":"2.0","id":';
const RESULT = ',"result":';
const CLOSE_BRACE = 0x7d;

/** What {@link readQuickResult} read: one object, reused. */
export interface QuickResult {
  id: number;
  result: unknown;
}

/**
 * Reads `body` into `out` if it is a result in the manager's own form and returns true; returns
 * false (and `out` means nothing) for any other text, valid or not.
 */
export function readQuickResult(body: string, out: QuickResult): boolean {
  const end = body.length - 1;
  if (body.charCodeAt(end) !== CLOSE_BRACE || !body.startsWith(PREFIX)) return false;
  const afterId = digitsEnd(body, PREFIX.length, end);
  if (afterId < 0 || !body.startsWith(RESULT, afterId)) return false;
  const at = afterId + RESULT.length;
  out.id = integerAt(body, PREFIX.length, afterId);
  const length = end - at;
  if (length === 4 && body.startsWith('null', at)) out.result = null;
  else if (length === 4 && body.startsWith('true', at)) out.result = true;
  else if (length === 5 && body.startsWith('false', at)) out.result = false;
  else if (signedDigitsEnd(body, at, end) === end) out.result = signedIntegerAt(body, at, end);
  else {
    try {
      out.result = JSON.parse(body.slice(at, end));
    } catch {
      return false;
    }
  }
  return true;
}
