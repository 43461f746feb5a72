/**
 * JSON text that keeps a negative zero. `JSON.stringify(-0)` writes `0`, so a float `-0.0` sent
 * through the manager would come back as `0.0` (SPEC 11.3 asks for its sign to survive). The value
 * codec writes a negative zero as {@link NEGATIVE_ZERO}, whose JSON form is a marker string that
 * {@link writeJson} then replaces with the number `-0.0`. The marker carries random bytes made at
 * start-up, so no string a client sends can be mistaken for it.
 */

import { randomBytes } from 'node:crypto';

const MARKER = `\u0000negative-zero:${randomBytes(12).toString('hex')}`;
/** The marker as `JSON.stringify` writes it, quotes and escape included. */
const MARKER_TEXT = JSON.stringify(MARKER);

/** Stands for a negative zero inside an encoded value; {@link writeJson} writes it as `-0.0`. */
export const NEGATIVE_ZERO: { toJSON(): string } = Object.freeze({ toJSON: () => MARKER });

/** `JSON.stringify(value)`, with every {@link NEGATIVE_ZERO} written as the number `-0.0`. */
export function writeJson(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes(MARKER_TEXT) ? text.replaceAll(MARKER_TEXT, '-0.0') : text;
}

/**
 * `JSON.stringify(value)` for any JSON value, writing every number `-0` as `-0.0`. Slower than
 * {@link writeJson} (it visits every member): for tools that send values they did not encode.
 */
export function writeJsonKeepingSigns(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (Object.is(v, -0) ? MARKER : v));
  return text.includes(MARKER_TEXT) ? text.replaceAll(MARKER_TEXT, '-0.0') : text;
}
