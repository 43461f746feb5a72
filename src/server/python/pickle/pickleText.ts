/**
 * The text encodings pickles use, as CPython applies them:
 *
 * - `str` travels as UTF-8 with `surrogatepass`: a lone surrogate (legal in Python and JavaScript
 *   strings) is written as its 3-byte form, so such strings survive both ways;
 * - protocol 0's STRING argument is a quoted literal decoded by `codecs.escape_decode`;
 * - protocol 0's UNICODE argument is `raw-unicode-escape`;
 * - a Python 2 `str` (bytes) is read as Latin-1 text, a character a byte.
 *
 * Decoders throw {@link TextError}; the reader turns it into a PickleError naming the opcode.
 */

/** Text that is not valid in its encoding. */
export class TextError extends Error {
  override name = 'TextError';
}

/** Bytes as Latin-1 text, a character a byte: how the reader reads a Python 2 `str`, and the writer spells bytes for `_codecs.encode`. */
export function latin1Text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 as Python's `str(data, 'utf-8', 'surrogatepass')` does. */
export function decodeUtf8(bytes: Uint8Array): string {
  // Pure ASCII and well-formed UTF-8 take the native paths; only surrogates need the slow one.
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decodeUtf8Surrogatepass(bytes);
  }
}

function decodeUtf8Surrogatepass(bytes: Uint8Array): string {
  const units: number[] = [];
  const cont = (i: number) => {
    if (i >= bytes.length || (bytes[i] & 0xc0) !== 0x80) throw new TextError(`invalid UTF-8 at byte ${i} of the string`);
    return bytes[i] & 0x3f;
  };
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    if (b < 0x80) {
      units.push(b);
      i += 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
      units.push(((b & 0x1f) << 6) | cont(i + 1));
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      const c = ((b & 0x0f) << 12) | (cont(i + 1) << 6) | cont(i + 2);
      // Overlong forms stay invalid; surrogates (ED A0..BF) are what surrogatepass lets through.
      if (c < 0x800) throw new TextError(`invalid UTF-8 at byte ${i} of the string`);
      units.push(c);
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const c = ((b & 0x07) << 18) | (cont(i + 1) << 12) | (cont(i + 2) << 6) | cont(i + 3);
      if (c < 0x10000 || c > 0x10ffff) throw new TextError(`invalid UTF-8 at byte ${i} of the string`);
      units.push(0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff));
      i += 4;
    } else {
      throw new TextError(`invalid UTF-8 at byte ${i} of the string`);
    }
  }
  return fromCodeUnits(units);
}

/** A string from UTF-16 code units, in slices (one spread of a huge array overflows the stack). */
function fromCodeUnits(units: number[]): string {
  let out = '';
  for (let i = 0; i < units.length; i += 8192) out += String.fromCharCode(...units.slice(i, i + 8192));
  return out;
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Encodes as Python's `text.encode('utf-8', 'surrogatepass')` does. */
export function encodeUtf8(text: string): Buffer {
  if (!loneSurrogate.test(text)) return Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      const p = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
      out.push(0xf0 | (p >> 18), 0x80 | ((p >> 12) & 0x3f), 0x80 | ((p >> 6) & 0x3f), 0x80 | (p & 0x3f));
      i++;
    } else if (c < 0x80) {
      out.push(c);
    } else if (c < 0x800) {
      out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    } else {
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    }
  }
  return Buffer.from(out);
}

const isOctal = (c: number) => c >= 0x30 && c <= 0x37;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

const simpleEscapes: Record<number, number> = {
  0x5c: 0x5c, // \\
  0x27: 0x27, // \'
  0x22: 0x22, // \"
  0x61: 0x07, // \a
  0x62: 0x08, // \b
  0x66: 0x0c, // \f
  0x6e: 0x0a, // \n
  0x72: 0x0d, // \r
  0x74: 0x09, // \t
  0x76: 0x0b, // \v
};

/** Decodes a backslash-escaped byte string as `codecs.escape_decode` does (protocol 0 STRING). */
export function decodeEscapedBytes(data: Uint8Array): Buffer {
  const out = Buffer.alloc(data.length);
  let n = 0;
  for (let i = 0; i < data.length; ) {
    const c = data[i++];
    if (c !== 0x5c) {
      out[n++] = c;
      continue;
    }
    if (i >= data.length) throw new TextError('a trailing \\ in the string');
    const e = data[i++];
    if (e === 0x0a) continue; // a backslash-newline continues the line
    if (simpleEscapes[e] !== undefined) {
      out[n++] = simpleEscapes[e];
    } else if (isOctal(e)) {
      let v = e - 0x30;
      for (let k = 0; k < 2 && i < data.length && isOctal(data[i]); k++) v = v * 8 + data[i++] - 0x30;
      out[n++] = v & 0xff;
    } else if (e === 0x78) {
      const hi = i < data.length ? hexValue(data[i]) : -1;
      const lo = i + 1 < data.length ? hexValue(data[i + 1]) : -1;
      if (hi < 0 || lo < 0) throw new TextError(`an invalid \\x escape at byte ${i - 2} of the string`);
      out[n++] = hi * 16 + lo;
      i += 2;
    } else {
      // Python keeps an unknown escape as it is, backslash included.
      out[n++] = 0x5c;
      out[n++] = e;
    }
  }
  return out.subarray(0, n);
}

/** Decodes `raw-unicode-escape` (protocol 0 UNICODE): bytes are Latin-1, except `\uXXXX` and `\UXXXXXXXX`. */
export function decodeRawUnicodeEscape(data: Uint8Array): string {
  let out = '';
  let run = 0; // start of the current run of plain bytes
  for (let i = 0; i < data.length; ) {
    if (data[i] !== 0x5c) {
      i++;
      continue;
    }
    // Only an odd run of backslashes escapes: `\\u` is a backslash and a `u`.
    let j = i;
    while (j < data.length && data[j] === 0x5c) j++;
    const u = data[j];
    if ((j - i) % 2 === 0 || (u !== 0x75 && u !== 0x55)) {
      i = j;
      continue;
    }
    out += latin1Text(data.subarray(run, j - 1));
    const count = u === 0x75 ? 4 : 8;
    let code = 0;
    for (let k = 1; k <= count; k++) {
      const h = j + k < data.length ? hexValue(data[j + k]) : -1;
      if (h < 0) throw new TextError(`a truncated \\${String.fromCharCode(u)} escape at byte ${j - 1} of the string`);
      code = code * 16 + h;
    }
    if (code > 0x10ffff) throw new TextError(`a \\U escape out of range at byte ${j - 1} of the string`);
    out += String.fromCodePoint(code);
    i = run = j + 1 + count;
  }
  return out + latin1Text(data.subarray(run));
}
