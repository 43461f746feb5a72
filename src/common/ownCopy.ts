/**
 * A copy of bytes in memory of its own, for what is kept of a read into a reused buffer (an
 * attachment, the start of a frame still arriving). Made with `Buffer.allocUnsafeSlow` and one
 * `set`: `Buffer.copyBytesFrom` and `Buffer.from` take twice as long for a 64 KiB copy (a slice of
 * the view, then a zero-filled buffer it is copied into), and `Buffer.from` puts a small copy in
 * Node's shared 8 KiB pool, which a small value kept (stored in a queue) would then keep alive.
 */
export function ownCopy(bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  copy.set(bytes);
  return copy;
}
