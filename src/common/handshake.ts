/**
 * The connection handshake: CPython's multiprocessing authentication, so that one port can serve
 * Python's own manager clients as well as JSON-RPC ones. Both sides prove they hold the authkey
 * with an HMAC over a random challenge; the key itself never crosses the wire.
 *
 * Frames are 4-byte big-endian lengths followed by that many bytes. The server speaks first:
 *
 *   server → client  `#CHALLENGE#{sha256}` + 40 random bytes
 *   client → server  `{sha256}` + HMAC-SHA256(key, everything after `#CHALLENGE#`)
 *   server → client  `#WELCOME#` (or `#FAILURE#`, then close)
 *   client → server  `#CHALLENGE#{sha256}` + 40 random bytes
 *   server → client  `{sha256}` + HMAC-SHA256(...)
 *   client → server  `#WELCOME#` (or `#FAILURE#`, then close)
 *
 * Legacy peers (Python 3.11 and older, 2.7) answer with a bare 16-byte HMAC-MD5 and challenge
 * with 20 bare random bytes; this module accepts and answers both forms, as CPython 3.12 does.
 */

import { LIGHT_CRYPTO, platformCrypto, type HandshakeCrypto } from './hmac';
import type { Duplex } from 'node:stream';

export const CHALLENGE = Buffer.from('#CHALLENGE#');
export const WELCOME = Buffer.from('#WELCOME#');
export const FAILURE = Buffer.from('#FAILURE#');

/** Random bytes in a modern challenge (CPython's MESSAGE_LENGTH). */
export const CHALLENGE_RANDOM_BYTES = 40;
/** Largest handshake frame read; anything longer fails the handshake (as CPython caps its read). */
export const MAX_HANDSHAKE_FRAME = 256;
/** Digests a peer may name in a `{digest}` prefix. */
export const ALLOWED_DIGESTS: ReadonlySet<string> = new Set(['md5', 'sha256', 'sha384', 'sha3_256', 'sha3_384']);
/** Default time a peer has to complete the handshake. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

const LEGACY_LENGTHS = new Set([16, 20]);

/** Why a handshake did not complete. */
export class HandshakeError extends Error {
  override name = 'HandshakeError';
  constructor(
    message: string,
    /** `rejected`: a key did not match; `timeout`; `closed`: the peer went away; `protocol`: malformed frames. */
    readonly reason: 'rejected' | 'timeout' | 'closed' | 'protocol',
  ) {
    super(message);
  }
}

/** Splits a challenge payload or a response into its digest name ('' for the legacy form) and MAC/payload. */
export function splitDigest(message: Buffer): { digest: string; payload: Buffer } {
  if (LEGACY_LENGTHS.has(message.length)) return { digest: '', payload: message };
  if (message[0] === 0x7b /* { */) {
    const close = message.indexOf(0x7d /* } */, 1);
    if (close > 0 && close <= 10) {
      const digest = message.subarray(1, close).toString('latin1');
      if (ALLOWED_DIGESTS.has(digest)) return { digest, payload: message.subarray(close + 1) };
    }
  }
  throw new HandshakeError('unsupported message length, missing digest prefix, or unsupported digest', 'protocol');
}

/** Makes a modern challenge frame payload: `#CHALLENGE#{sha256}` + 40 random bytes. */
export function makeChallenge(random: Buffer = LIGHT_CRYPTO.randomBytes(CHALLENGE_RANDOM_BYTES)): Buffer {
  return Buffer.concat([CHALLENGE, Buffer.from('{sha256}'), random]);
}

/**
 * The answer to a challenge's message (the bytes after `#CHALLENGE#`): `{digest}` + HMAC over the
 * whole message for the modern form, a bare HMAC-MD5 for a legacy 20-byte challenge.
 */
export function createResponse(authkey: Buffer, message: Buffer, crypto: HandshakeCrypto = LIGHT_CRYPTO): Buffer {
  const { digest } = splitDigest(message);
  if (!digest) return crypto.hmac('md5', authkey, message);
  const mac = crypto.hmac(digest, authkey, message);
  return Buffer.concat([Buffer.from(`{${digest}}`), mac]);
}

/** Whether `response` proves the key for our challenge `message`. Constant-time in the MAC. */
export function verifyResponse(authkey: Buffer, message: Buffer, response: Buffer, crypto: HandshakeCrypto = LIGHT_CRYPTO): boolean {
  let parts: { digest: string; payload: Buffer };
  try {
    parts = splitDigest(response);
  } catch {
    return false;
  }
  // A prefixed answer must name the digest the challenge named: `{md5}` to a `{sha256}` challenge
  // is a downgrade (SPEC 3.4, since 1.3). The bare legacy answer stays, for unmodified old Pythons.
  if (parts.digest && parts.digest !== challengeDigest(message)) return false;
  return crypto.sameBytes(crypto.hmac(parts.digest || 'md5', authkey, message), parts.payload);
}

/** The digest a challenge's message names (`sha256` for `{sha256}` + random bytes); '' for a legacy one. */
function challengeDigest(message: Buffer): string {
  try {
    return splitDigest(message).digest;
  } catch {
    return '';
  }
}

/** Frames a handshake payload with its 4-byte big-endian length. */
export function frameHandshake(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** Reads 4-byte-length frames from a stream during the handshake, without losing what follows. */
class HandshakeReader {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: { resolve: (frame: Buffer) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    this.deliver();
  };
  private readonly onEnd = () => this.fail(new HandshakeError('connection closed during the handshake', 'closed'));
  private readonly onError = (error: Error) => this.fail(new HandshakeError(`connection error during the handshake: ${error.message}`, 'closed'));

  constructor(
    private readonly stream: Duplex,
    private readonly input?: HandshakeInput,
  ) {
    if (input) input.listen(this.onData);
    else stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
  }

  next(): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.deliver();
    });
  }

  fail(error: Error): void {
    this.failure ??= error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }

  /** Stops reading and returns the bytes that arrived after the last frame. */
  detach(): Buffer {
    this.stream.pause();
    if (this.input) this.input.stop();
    else this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.stream.off('error', this.onError);
    return this.buffer;
  }

  private deliver(): void {
    if (!this.waiter || this.buffer.length < 4) return;
    const length = this.buffer.readInt32BE(0);
    if (length < 0 || length > MAX_HANDSHAKE_FRAME) {
      this.fail(new HandshakeError(`handshake frame of ${length} bytes (at most ${MAX_HANDSHAKE_FRAME})`, 'protocol'));
      return;
    }
    if (this.buffer.length < 4 + length) return;
    const frame = this.buffer.subarray(4, 4 + length);
    this.buffer = this.buffer.subarray(4 + length);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter.resolve(frame);
  }
}

/**
 * Where the handshake reads the stream's bytes, when not from its 'data' events (a socket read
 * into a buffer of its own, net's `onread`, emits none).
 */
export interface HandshakeInput {
  /** Hands every chunk read from now on to `onData`; the handshake keeps the chunks it is given. */
  listen(onData: (chunk: Buffer) => void): void;
  /** Stops handing chunks on. */
  stop(): void;
}

/** Options for either side of the handshake. */
export interface HandshakeOptions {
  /** Milliseconds the whole handshake may take. */
  timeoutMs?: number;
  /** Where the bytes come from, if not the stream's 'data' events. */
  input?: HandshakeInput;
}

async function withReader<T>(stream: Duplex, options: HandshakeOptions, run: (reader: HandshakeReader) => Promise<T>): Promise<{ result: T; rest: Buffer }> {
  const reader = new HandshakeReader(stream, options.input);
  const timeoutMs = options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const timer = setTimeout(() => reader.fail(new HandshakeError(`handshake not completed within ${timeoutMs} ms`, 'timeout')), timeoutMs);
  try {
    const result = await run(reader);
    return { result, rest: reader.detach() };
  } catch (error) {
    reader.detach();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function deliverChallenge(stream: Duplex, reader: HandshakeReader, authkey: Buffer, who: string, crypto: HandshakeCrypto): Promise<void> {
  const challenge = makeChallenge(crypto.randomBytes(CHALLENGE_RANDOM_BYTES));
  stream.write(frameHandshake(challenge));
  let response: Buffer;
  try {
    response = await reader.next();
  } catch (error) {
    // A response frame that cannot be read (too long, a negative length) is a failed proof: say so
    // before closing, as for a wrong MAC (SPEC 3.5, since 1.3).
    if (error instanceof HandshakeError && error.reason === 'protocol') stream.write(frameHandshake(FAILURE));
    throw error;
  }
  if (!verifyResponse(authkey, challenge.subarray(CHALLENGE.length), response, crypto)) {
    stream.write(frameHandshake(FAILURE));
    throw new HandshakeError(`${who} did not prove the authkey (digest received was wrong)`, 'rejected');
  }
  stream.write(frameHandshake(WELCOME));
}

async function answerChallenge(stream: Duplex, reader: HandshakeReader, authkey: Buffer, who: string, crypto: HandshakeCrypto): Promise<void> {
  const challenge = await reader.next();
  if (!challenge.subarray(0, CHALLENGE.length).equals(CHALLENGE)) {
    throw new HandshakeError(`${who} sent no challenge (is this a syncmanager or Python manager?)`, 'protocol');
  }
  const message = challenge.subarray(CHALLENGE.length);
  if (message.length < 20) throw new HandshakeError(`${who}'s challenge is too short`, 'protocol');
  stream.write(frameHandshake(createResponse(authkey, message, crypto)));
  const verdict = await reader.next();
  if (verdict.equals(FAILURE)) throw new HandshakeError(`${who} rejected our authkey`, 'rejected');
  if (!verdict.equals(WELCOME)) throw new HandshakeError(`${who} answered neither #WELCOME# nor #FAILURE#`, 'protocol');
}

/**
 * Runs the server's side: challenge the client, then answer its challenge. Resolves with the bytes
 * that followed the handshake (the start of the first protocol message); the stream is paused.
 */
export async function serverHandshake(stream: Duplex, authkey: Buffer, options: HandshakeOptions = {}): Promise<Buffer> {
  const { rest } = await withReader(stream, options, async (reader) => {
    const crypto = platformCrypto();
    await deliverChallenge(stream, reader, authkey, 'the client', crypto);
    await answerChallenge(stream, reader, authkey, 'the client', crypto);
  });
  return rest;
}

/** Runs the client's side: answer the server's challenge, then challenge it. The stream is paused after. */
export async function clientHandshake(stream: Duplex, authkey: Buffer, options: HandshakeOptions = {}): Promise<Buffer> {
  const { rest } = await withReader(stream, options, async (reader) => {
    await answerChallenge(stream, reader, authkey, 'the server', LIGHT_CRYPTO);
    await deliverChallenge(stream, reader, authkey, 'the server', LIGHT_CRYPTO);
  });
  return rest;
}
