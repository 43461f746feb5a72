/**
 * The handshake's HMAC and random bytes without node:crypto (src/common/hmac.ts): the same bytes as
 * node:crypto's for every digest SPEC 3.3 allows, every key length around the block and every
 * message length around the padding's boundaries. CPython's own key check is run against it by
 * test/python/auth.test.ts (2.7 and 3.6 to 3.13, both digest kinds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { LIGHT_CRYPTO, hmac, md5, platformCrypto, sameBytes, secureRandomBytes, sha256 } from '../../src/common/hmac';
import { createResponse, verifyResponse } from '../../src/common/handshake';

const NODE_DIGEST: Record<string, string> = { md5: 'md5', sha256: 'sha256', sha384: 'sha384', sha3_256: 'sha3-256', sha3_384: 'sha3-384' };

/** Bytes 0, 1, 2... of length n, shifted by `seed`, so that no two inputs are alike. */
const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

test('MD5 and SHA-256 give node:crypto digests for every length from 0 to 300 bytes', () => {
  for (let n = 0; n <= 300; n++) {
    const data = bytes(n, n);
    assert.equal(md5(data).toString('hex'), createHash('md5').update(data).digest('hex'), `md5 of ${n} bytes`);
    assert.equal(sha256(data).toString('hex'), createHash('sha256').update(data).digest('hex'), `sha256 of ${n} bytes`);
  }
  assert.equal(md5(Buffer.from('abc')).toString('hex'), '900150983cd24fb0d6963f7d28e17f72');
  assert.equal(sha256(Buffer.from('abc')).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test("HMAC gives node:crypto's bytes for every digest of SPEC 3.3, key lengths around each block and challenge-sized messages", () => {
  const keyLengths = [0, 1, 5, 16, 63, 64, 65, 100, 103, 104, 105, 127, 128, 129, 135, 136, 137, 200];
  const messages = [bytes(0, 1), bytes(20, 2), Buffer.concat([Buffer.from('{sha256}'), bytes(40, 3)]), bytes(55, 4), bytes(56, 5), bytes(64, 6), bytes(300, 7)];
  for (const digest of Object.keys(NODE_DIGEST)) {
    for (const n of keyLengths) {
      const key = bytes(n, 100 + n);
      for (const message of messages) {
        const expected = createHmac(NODE_DIGEST[digest], key).update(message).digest('hex');
        assert.equal(hmac(digest, key, message).toString('hex'), expected, `${digest}, key of ${n} bytes, message of ${message.length}`);
      }
    }
  }
});

test('sameBytes compares whole byte strings, and secureRandomBytes gives the length asked, differently each time', () => {
  assert.equal(sameBytes(bytes(32, 1), bytes(32, 1)), true);
  assert.equal(sameBytes(bytes(32, 1), Buffer.concat([bytes(31, 1), Buffer.from([0])])), false);
  assert.equal(sameBytes(bytes(32, 1), bytes(31, 1)), false);
  const a = secureRandomBytes(40);
  const b = secureRandomBytes(40);
  assert.equal(a.length, 40);
  assert.notDeepEqual(a, b);
  assert.equal(secureRandomBytes(0).length, 0);
});

test("the server's side of the handshake uses node:crypto's, and its answers and checks agree with a client's", () => {
  const key = bytes(20, 9);
  const message = Buffer.concat([Buffer.from('{sha256}'), bytes(40, 8)]);
  const server = platformCrypto();
  assert.equal(server.hmac('sha256', key, message).toString('hex'), createHmac('sha256', key).update(message).digest('hex'));
  assert.equal(server.hmac('md5', key, message).toString('hex'), LIGHT_CRYPTO.hmac('md5', key, message).toString('hex'));
  assert.ok(verifyResponse(key, message, createResponse(key, message, LIGHT_CRYPTO), server), "the server takes a client's answer");
  assert.ok(verifyResponse(key, message, createResponse(key, message, server), LIGHT_CRYPTO), "a client takes the server's answer");
  assert.ok(!verifyResponse(bytes(20, 10), message, createResponse(key, message, LIGHT_CRYPTO), server), 'another key is refused');
  assert.equal(server.sameBytes(bytes(32, 1), bytes(31, 1)), false, 'lengths that differ are unequal, not an error');
});
