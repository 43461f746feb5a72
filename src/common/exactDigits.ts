/**
 * The rule every reader of decimal digits on the wire shares: a whole number of up to
 * {@link MAX_EXACT_DIGITS} digits is exact as a JavaScript number (10^15 - 1 is below 2^53), so
 * such digits are read one by one into a number with no check of range, and anything longer
 * goes the general way (a byte count is refused, an integer is parsed and checked).
 */

/** Most decimal digits of a whole number that a double always holds exactly. */
export const MAX_EXACT_DIGITS = 15;

const ZERO = 0x30;
const MINUS = 0x2d;

/**
 * Where a JSON integer's digits starting at `from` end in `text` (1 to {@link MAX_EXACT_DIGITS}
 * digits, no leading zero), before `limit`; -1 when there are none there or they are not such an
 * integer. The quick readers of answers and requests read integers in place with it.
 */
export function digitsEnd(text: string, from: number, limit: number): number {
  let at = from;
  while (at < limit) {
    const digit = text.charCodeAt(at) - ZERO;
    if (digit < 0 || digit > 9) break;
    at++;
  }
  const count = at - from;
  if (count === 0 || count > MAX_EXACT_DIGITS || (count > 1 && text.charCodeAt(from) === ZERO)) return -1;
  return at;
}

/** The value of the digits from `from` to `to` (as {@link digitsEnd} found them). */
export function integerAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let at = from; at < to; at++) n = n * 10 + (text.charCodeAt(at) - ZERO);
  return n;
}

/** Where a JSON integer starting at `from` ends (an optional minus, then as {@link digitsEnd}), before `limit`; -1 when there is none. */
export function signedDigitsEnd(text: string, from: number, limit: number): number {
  return digitsEnd(text, text.charCodeAt(from) === MINUS ? from + 1 : from, limit);
}

/** The value of the integer from `from` to `to` (as {@link signedDigitsEnd} found it; `-0` is -0, as `JSON.parse` reads it). */
export function signedIntegerAt(text: string, from: number, to: number): number {
  return text.charCodeAt(from) === MINUS ? -integerAt(text, from + 1, to) : integerAt(text, from, to);
}
