/**
 * The smallest reply a Python manager client understands: a pickled `('#TRACEBACK', text)` tuple
 * in a 4-byte-length frame. Python's client raises it as `RemoteError(text)`, so a Python user who
 * points `BaseManager.connect()` at this port reads why, instead of a bare connection reset.
 * Protocol 2 opcodes only, so Python 2.7 reads it too.
 */

const PROTO = 0x80;
const BINUNICODE = 0x58; // 'X': 4-byte little-endian length, UTF-8 bytes
const TUPLE2 = 0x86;
const STOP = 0x2e; // '.'

function binUnicode(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = BINUNICODE;
  head.writeUInt32LE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** A framed pickle of `('#TRACEBACK', text)`. */
export function pythonTracebackFrame(text: string): Buffer {
  const pickle = Buffer.concat([Buffer.from([PROTO, 2]), binUnicode('#TRACEBACK'), binUnicode(text), Buffer.from([TUPLE2, STOP])]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(pickle.length, 0);
  return Buffer.concat([length, pickle]);
}
