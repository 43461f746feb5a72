/**
 * Reading a JSON integer in place, in a text whose form is known (the quick readers of answers and
 * requests), without parsing the text: where its digits end, and their value.
 */

const ZERO = 0x30;

/**
 * Where a JSON integer's digits starting at `from` end (1 to 15 digits, no leading zero), or -1
 * when there are none there or they are not such an integer.
 */
export function digitsEnd(text: string, from: number, limit: number): number {
  let at = from;
  while (at < limit) {
    const digit = text.charCodeAt(at) - ZERO;
    if (digit < 0 || digit > 9) break;
    at++;
  }
  const count = at - from;
  if (count === 0 || count > 15 || (count > 1 && text.charCodeAt(from) === ZERO)) return -1;
  return at;
}

/** The value of the digits from `from` to `to`. */
export function integerAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let at = from; at < to; at++) n = n * 10 + (text.charCodeAt(at) - ZERO);
  return n;
}
