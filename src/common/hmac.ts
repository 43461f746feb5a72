/**
 * HMAC (RFC 2104) for the handshake, and the random bytes of its challenges, without `node:crypto`
 * where that is cheap to do right: loading `node:crypto` costs a cold client about 2 ms, more than
 * the handshake's whole work. HMAC-MD5 (Python 3.11 and older, 2.7) and HMAC-SHA256 (the modern
 * challenge) are computed here, MD5 (RFC 1321) and SHA-256 (FIPS 180-4) over one short message
 * each; the other digests a peer may name, and random bytes where the system has no
 * `/dev/urandom`, come from `node:crypto`, loaded then. The server uses `node:crypto`'s
 * ({@link platformCrypto}); a client, this module's ({@link LIGHT_CRYPTO}).
 */

import { closeSync, openSync, readSync } from 'node:fs';

type Crypto = typeof import('node:crypto');
const nodeCrypto = (): Crypto => require('node:crypto') as Crypto;

/** Node's names of the digests of SPEC 3.3. */
const NODE_DIGEST: Record<string, string> = { md5: 'md5', sha256: 'sha256', sha384: 'sha384', sha3_256: 'sha3-256', sha3_384: 'sha3-384' };

const BLOCK = 64;

/** The message padded to whole 64-byte blocks with its bit length, big- or little-endian (SHA-256 / MD5). */
function padded(data: Uint8Array, bigEndian: boolean): DataView {
  const blocks = Math.ceil((data.length + 9) / BLOCK);
  const bytes = new Uint8Array(blocks * BLOCK);
  bytes.set(data);
  bytes[data.length] = 0x80;
  const view = new DataView(bytes.buffer);
  const bits = data.length * 8;
  const end = bytes.length - 8;
  if (bigEndian) {
    view.setUint32(end, Math.floor(bits / 0x100000000));
    view.setUint32(end + 4, bits >>> 0);
  } else {
    view.setUint32(end, bits >>> 0, true);
    view.setUint32(end + 4, Math.floor(bits / 0x100000000), true);
  }
  return view;
}

const K256 = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Buffer {
  const view = padded(data, true);
  const h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Int32Array(64);
  for (let offset = 0; offset < view.byteLength; offset += BLOCK) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(offset + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15];
      const b = w[i - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + K256[i] + w[i]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  return stateBytes(h, true);
}

/** A hash's state words as its digest, big- or little-endian (SHA-256 / MD5). */
function stateBytes(h: Int32Array, bigEndian: boolean): Buffer {
  const out = Buffer.alloc(h.length * 4);
  for (let i = 0; i < h.length; i++) {
    if (bigEndian) out.writeInt32BE(h[i], i * 4);
    else out.writeInt32LE(h[i], i * 4);
  }
  return out;
}

/** MD5's per-step left rotations and constants (floor(abs(sin(i + 1)) * 2**32)). */
const MD5_SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const MD5_K = new Int32Array(64).map((_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) | 0);

/** MD5 of `data`. */
export function md5(data: Uint8Array): Buffer {
  const view = padded(data, false);
  const h = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
  const m = new Int32Array(16);
  for (let offset = 0; offset < view.byteLength; offset += BLOCK) {
    for (let i = 0; i < 16; i++) m[i] = view.getInt32(offset + i * 4, true);
    let [a, b, c, d] = h;
    for (let i = 0; i < 64; i++) {
      const round = i >> 4;
      let f: number;
      let g: number;
      if (round === 0) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (round === 1) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (round === 2) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const s = MD5_SHIFTS[(round << 2) | (i & 3)];
      const x = (a + f + MD5_K[i] + m[g]) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
    }
    h.set([h[0] + a, h[1] + b, h[2] + c, h[3] + d]);
  }
  return stateBytes(h, false);
}

const HASHES: Record<string, (data: Uint8Array) => Buffer> = { md5, sha256 };

/** HMAC of `message` with `key` and the digest SPEC 3.3 names `digest` (`md5`, `sha256`, `sha384`, `sha3_256`, `sha3_384`). */
export function hmac(digest: string, key: Uint8Array, message: Uint8Array): Buffer {
  const hash = HASHES[digest];
  if (!hash) return nodeCrypto().createHmac(NODE_DIGEST[digest], key).update(message).digest();
  const block = Buffer.alloc(BLOCK);
  block.set(key.length > BLOCK ? hash(key) : key);
  const inner = Buffer.alloc(BLOCK + message.length);
  for (let i = 0; i < BLOCK; i++) inner[i] = block[i] ^ 0x36;
  inner.set(message, BLOCK);
  const innerDigest = hash(inner);
  const outer = Buffer.alloc(BLOCK + innerDigest.length);
  for (let i = 0; i < BLOCK; i++) outer[i] = block[i] ^ 0x5c;
  outer.set(innerDigest, BLOCK);
  return hash(outer);
}

/** Whether `a` and `b` are equal, looking at every byte whatever the first difference. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

/** `n` random bytes from the system's generator: `/dev/urandom`, or `node:crypto` where it cannot be read. */
export function secureRandomBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  let fd: number | undefined;
  try {
    fd = openSync('/dev/urandom', 'r');
    let filled = 0;
    while (filled < n) {
      const read = readSync(fd, out, filled, n - filled, null);
      if (read <= 0) throw new Error('/dev/urandom gave no bytes');
      filled += read;
    }
    return out;
  } catch {
    return nodeCrypto().randomBytes(n);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What one side of the handshake computes its MACs, challenges and comparisons with. */
export interface HandshakeCrypto {
  hmac(digest: string, key: Uint8Array, message: Uint8Array): Buffer;
  randomBytes(n: number): Buffer;
  sameBytes(a: Uint8Array, b: Uint8Array): boolean;
}

/** This module's own: a client's cold start loads no `node:crypto` for MD5 and SHA-256. */
export const LIGHT_CRYPTO: HandshakeCrypto = { hmac, randomBytes: secureRandomBytes, sameBytes };

/**
 * `node:crypto`'s, for the server: it admits clients on their answer, so its check rests on the
 * platform's audited code rather than ours (ours is checked against it byte for byte in
 * test/common/hmac.test.ts, and a flaw there could only fail a client's own login or its check of
 * the server).
 */
export function platformCrypto(): HandshakeCrypto {
  if (platform) return platform;
  const crypto = nodeCrypto();
  return (platform = {
    hmac: (digest, key, message) => crypto.createHmac(NODE_DIGEST[digest], key).update(message).digest(),
    randomBytes: (n) => crypto.randomBytes(n),
    sameBytes: (a, b) => a.length === b.length && crypto.timingSafeEqual(a, b),
  });
}
let platform: HandshakeCrypto | undefined;
