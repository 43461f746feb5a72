/**
 * Counting a JSON text's values before parsing it, so a message that would cost far more to
 * build than it weighs (`[{}, {}, …]`: three bytes, one object each) is refused before any of it
 * is built. One pass over the text, no allocation: containers, array items and object members
 * are counted (a member is one, its key and value together), strings are skipped whole.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/**
 * Whether `text` holds more than `limit` values (counting as above). A text no longer than the
 * limit cannot, and is not scanned.
 */
export function exceedsJsonValues(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  // Each counted character stands for a value: an item or member follows every comma, and a
  // container starts at each brace or bracket. The first value of the text counts too.
  let count = 1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string: its characters are data, not structure.
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === COMMA || c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++count > limit) return true;
    }
  }
  return false;
}

/** A JSON text's containers (`{`, `[`), commas and colons (object members) outside strings, counted as {@link exceedsJsonValues} counts its values. */
export interface JsonStructure {
  readonly containers: number;
  readonly commas: number;
  readonly members: number;
}

/**
 * Counts a text's containers, commas and colons, skipping each string with a native search for its
 * closing quote: costs a fraction of parsing the text, so a reader may ask it of every message.
 */
export function jsonStructure(text: string): JsonStructure {
  let containers = 0;
  let commas = 0;
  let members = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = text.indexOf('"', i + 1);
      while (end > 0 && escaped(text, end)) end = text.indexOf('"', end + 1);
      if (end < 0) break;
      i = end;
    } else if (c === COMMA) commas++;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) containers++;
    else if (c === COLON) members++;
  }
  return { containers, commas, members };
}

/** Whether the character at `at` follows an odd run of backslashes. */
function escaped(text: string, at: number): boolean {
  let i = at - 1;
  while (text.charCodeAt(i) === BACKSLASH) i--;
  return (at - 1 - i) % 2 === 1;
}
