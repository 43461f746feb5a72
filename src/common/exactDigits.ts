/**
 * The rule every reader of decimal digits on the wire shares: a whole number of up to
 * {@link MAX_EXACT_DIGITS} digits is exact as a JavaScript number (10^15 - 1 is below 2^53), so
 * such digits are read one by one into a number with no check of range, and anything longer
 * goes the general way (a byte count is refused, an integer is parsed and checked).
 */

/** Most decimal digits of a whole number that a double always holds exactly. */
export const MAX_EXACT_DIGITS = 15;
