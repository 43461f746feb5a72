/**
 * JSON text that keeps a negative zero. `JSON.stringify(-0)` writes `0`, so a float `-0.0` sent
 * through the manager would come back as `0.0` (SPEC 11.3 asks for its sign to survive). The value
 * codec tells this module when it encodes a negative zero ({@link noteNegativeZero}); the next
 * {@link writeJson} then takes the slower path that writes every `-0` as `-0.0`. Values without
 * one, nearly all, keep the plain `JSON.stringify`.
 */

import { randomBytes } from 'node:crypto';

let negativeZeroPending = false;

/** The value codec encoded a negative zero: the next {@link writeJson} must keep its sign. */
export function noteNegativeZero(): void {
  negativeZeroPending = true;
}

/**
 * `JSON.stringify(value)`, keeping the sign of a negative zero the value codec encoded since the
 * last call. Encode and write a value in one synchronous step, as the sessions and the client do.
 */
export function writeJson(value: unknown): string {
  if (!negativeZeroPending) return JSON.stringify(value);
  negativeZeroPending = false;
  return writeJsonKeepingSigns(value);
}

/** `JSON.stringify(value)` with every number `-0` written as `-0.0`; visits every member. */
export function writeJsonKeepingSigns(value: unknown): string {
  let signed = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (!Object.is(v, -0)) return v;
    signed = true;
    return MARKER;
  });
  return signed ? text.replaceAll(MARKER_TEXT, '-0.0') : text;
}

/** Stands for -0 inside the text until it is replaced; random, so that no string a client sends is it. */
const MARKER = `\u0000-0:${randomBytes(12).toString('hex')}`;
const MARKER_TEXT = JSON.stringify(MARKER);
