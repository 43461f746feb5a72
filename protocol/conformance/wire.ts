/**
 * The client side of the wire for the conformance runner: a TCP connection, the handshake of
 * SPEC section 3 and the Content-Length framing of section 5, written here from the spec rather
 * than taken from the server's own modules, so that a mistake shared by the server's code and the
 * runner's cannot hide itself. Received messages wait in a queue until a step takes them.
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Json } from './patterns';
import { StepFailure } from './scenarioFile';

const CHALLENGE = Buffer.from('#CHALLENGE#');
const WELCOME = Buffer.from('#WELCOME#');
const FAILURE = Buffer.from('#FAILURE#');
const NEGATIVE_ZERO_MARK = `\u0000-0:${randomBytes(8).toString('hex')}`;

/**
 * JSON text of a scenario's message, a negative zero written `-0.0` (JSON.stringify writes `0`),
 * so that a scenario can check that a server keeps its sign (section 11.3). The suite has its own
 * writer, independent of the server's code it checks.
 */
export function jsonText(message: Json): string {
  const text = JSON.stringify(message, (_key, value: unknown) => (Object.is(value, -0) ? NEGATIVE_ZERO_MARK : value));
  return text.replaceAll(JSON.stringify(NEGATIVE_ZERO_MARK), '-0.0');
}

/** How the runner answers the server's challenge in step 2 (see {@link Connection.handshake}). */
export type AnswerForm = 'prefixed' | 'bare-md5' | 'md5-prefixed' | 'oversized';

/** Section 3.1: a receiver fails the handshake on a frame over 256 bytes. */
const MAX_HANDSHAKE_FRAME = 256;
/** Section 3.3: digest names and the node names of their hashes. */
const DIGESTS: Record<string, string> = { md5: 'md5', sha256: 'sha256', sha384: 'sha384', sha3_256: 'sha3-256', sha3_384: 'sha3-384' };
/** The runner's own limit on what it reads (section 5: a client SHOULD have one). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** A failed wait or a broken exchange, with what arrived instead when that helps. */
export class WireError extends StepFailure {
  override name = 'WireError';
}

/** One message read from the server, in arrival order. */
export interface Received {
  message: Json;
  /** The frame's attachments (section 5.1), when it carried any. */
  attachments?: Buffer[];
  /** Sequence number on its connection, from 1. */
  seq: number;
}

type Waiter = { check: () => boolean; wake: () => void };

/**
 * One connection to the server under test. Every read is driven by socket events and every wait
 * is bounded by a deadline; nothing sleeps.
 */
export class Connection {
  /** Messages not taken by a step yet. */
  readonly queue: Received[] = [];
  /** Ids of every response received so far, taken or not (for `notYet`). */
  readonly responseIds: Json[] = [];
  /** The server ended the stream (or the socket failed). */
  ended = false;
  /** The client closed the connection itself. */
  closedByClient = false;
  /** Why the server's bytes could not be read as frames, if they could not. */
  protocolError: string | undefined;

  private buffer: Buffer = Buffer.alloc(0);
  private mode: 'handshake' | 'jsonrpc' = 'handshake';
  private seq = 0;
  private waiters = new Set<Waiter>();

  private constructor(
    readonly name: string,
    private readonly socket: Socket,
    private readonly onMessage?: (message: Json) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      if (this.mode === 'jsonrpc') this.readFrames();
      this.notify();
    });
    const ended = () => {
      this.ended = true;
      this.notify();
    };
    socket.on('end', ended);
    socket.on('close', ended);
    // A reset by the server is its way of closing too; the error itself needs no report.
    socket.on('error', ended);
  }

  /** Opens a TCP connection, failing after `timeoutMs`. */
  static open(name: string, host: string, port: number, timeoutMs: number, onMessage?: (message: Json) => void): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new WireError(`could not connect to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Connection(name, socket, onMessage));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new WireError(`could not connect to ${host}:${port}: ${error.message}`));
      });
    });
  }

  /**
   * Waits until `check()` holds, re-checking after every event on the socket. Rejects with
   * `describe()` after `timeoutMs`.
   */
  waitFor(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new WireError(describe()));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      let done: boolean;
      try {
        done = waiter.check();
      } catch {
        done = true; // the waiting step re-runs its check and meets the error itself
      }
      if (done) waiter.wake();
    }
  }

  /** Writes bytes as they are. */
  write(bytes: Buffer): void {
    if (this.closedByClient) throw new WireError(`connection ${this.name} was closed by the scenario`);
    this.socket.write(bytes);
  }

  /**
   * Frames one message with `Content-Length` and sends it; with `attachments`, they follow its
   * JSON text, listed in `Content-Attachments` and counted in `Content-Length` (section 5.1).
   */
  send(message: Json, attachments?: readonly Buffer[]): void {
    const body = Buffer.concat([Buffer.from(jsonText(message), 'utf8'), ...(attachments ?? [])]);
    const listed = attachments ? `Content-Attachments: ${attachments.map((a) => a.length).join(',')}\r\n` : '';
    this.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n${listed}\r\n`, 'ascii'), body]));
  }

  /** Closes the connection from the client's side. */
  close(): void {
    this.closedByClient = true;
    this.socket.destroy();
  }

  /**
   * The client's side of the handshake (section 3.2) with `authkey`; resolves with the server's
   * verdict on our proof. `form` is how step 2 answers: `prefixed` as the challenge asks, `bare-md5`
   * as an unmodified Python 3.11 does, `md5-prefixed` a downgrade to `{md5}`, `oversized` a frame
   * over 256 bytes (section 3.1).
   */
  async handshake(authkey: Buffer, timeoutMs: number, expectWelcome: boolean, form: AnswerForm = 'prefixed'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Steps 1 and 2: answer the server's challenge.
    const challenge = await this.readHandshakeFrame(deadline, 'the server\'s challenge (step 1)');
    if (!challenge.subarray(0, CHALLENGE.length).equals(CHALLENGE)) {
      throw new WireError('the server\'s first frame is not a #CHALLENGE#', show(challenge));
    }
    const message = challenge.subarray(CHALLENGE.length);
    if (message.length < 20 || (message.length > 20 && !digestPrefix(message))) {
      throw new WireError('the server\'s challenge is malformed (section 3.3)', show(challenge));
    }
    if (form === 'oversized') {
      const length = Buffer.alloc(4);
      length.writeInt32BE(MAX_HANDSHAKE_FRAME + 44);
      this.write(Buffer.concat([length, Buffer.alloc(MAX_HANDSHAKE_FRAME + 44)]));
    } else if (form === 'bare-md5') {
      this.write(frame(createHmac('md5', authkey).update(message).digest()));
    } else if (form === 'md5-prefixed') {
      this.write(frame(Buffer.concat([Buffer.from('{md5}'), createHmac('md5', authkey).update(message).digest()])));
    } else {
      this.write(frame(respond(authkey, message)));
    }
    // Step 3: the verdict.
    const verdict = await this.readHandshakeFrame(deadline, 'the verdict on our answer (step 3)');
    if (!expectWelcome) {
      const what = form === 'prefixed' ? 'a wrong key' : form === 'md5-prefixed' ? 'an {md5} answer to a stronger challenge' : 'a handshake frame over 256 bytes';
      if (!verdict.equals(FAILURE)) throw new WireError(`${what} was not answered #FAILURE#`, show(verdict));
      return;
    }
    if (!verdict.equals(WELCOME)) throw new WireError('the right key was not answered #WELCOME#', show(verdict));
    // Steps 4 to 6: challenge the server, which must prove the key too.
    const ours = Buffer.concat([Buffer.from('{sha256}'), randomBytes(40)]);
    this.write(frame(Buffer.concat([CHALLENGE, ours])));
    const answer = await this.readHandshakeFrame(deadline, 'the server\'s answer to our challenge (step 5)');
    if (!verify(authkey, ours, answer)) {
      this.write(frame(FAILURE));
      throw new WireError('the server\'s answer to our challenge does not prove the key', show(answer));
    }
    this.write(frame(WELCOME));
    this.mode = 'jsonrpc';
    this.readFrames();
  }

  private async readHandshakeFrame(deadline: number, what: string): Promise<Buffer> {
    const complete = () => this.buffer.length >= 4 && (this.buffer.readInt32BE(0) < 0 || this.buffer.readInt32BE(0) > MAX_HANDSHAKE_FRAME || this.buffer.length >= 4 + this.buffer.readInt32BE(0));
    await this.waitFor(() => complete() || this.ended, Math.max(0, deadline - Date.now()), () => `no ${what} within the step timeout`);
    if (!complete()) throw new WireError(`the connection closed before ${what}`, this.buffer.length ? show(this.buffer) : undefined);
    const length = this.buffer.readInt32BE(0);
    if (length < 0 || length > MAX_HANDSHAKE_FRAME) throw new WireError(`handshake frame of ${length} bytes (section 3.1 allows 0 to 256)`);
    const payload = this.buffer.subarray(4, 4 + length);
    this.buffer = this.buffer.subarray(4 + length);
    return payload;
  }

  /** Bytes received but not read as handshake frames or messages. */
  get unreadBytes(): number {
    return this.buffer.length;
  }

  /** Splits the buffer into Content-Length frames and queues their JSON bodies. */
  private readFrames(): void {
    while (!this.protocolError) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buffer.length > 8192) this.protocolError = 'the server sent a header block over 8 KiB';
        return;
      }
      const header = this.buffer.subarray(0, end).toString('latin1');
      let length = -1;
      let listed: number[] | undefined;
      for (const line of header.split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) {
          this.protocolError = `the server sent a malformed header line ${JSON.stringify(line.slice(0, 80))}`;
          return;
        }
        if (line.slice(0, colon).trim().toLowerCase() === 'content-length') {
          const value = line.slice(colon + 1).trim();
          if (!/^\d{1,15}$/.test(value) || length >= 0) {
            this.protocolError = `the server sent a bad Content-Length header ${JSON.stringify(line)}`;
            return;
          }
          length = Number(value);
        } else if (line.slice(0, colon).trim().toLowerCase() === 'content-attachments') {
          const value = line.slice(colon + 1).trim();
          if (!/^\d{1,15}(,\d{1,15})*$/.test(value) || listed) {
            this.protocolError = `the server sent a bad Content-Attachments header ${JSON.stringify(line)}`;
            return;
          }
          listed = value.split(',').map(Number);
        }
      }
      if (length < 0) {
        this.protocolError = `the server sent a header without Content-Length: ${JSON.stringify(header.slice(0, 80))}`;
        return;
      }
      if (length > MAX_BODY_BYTES) {
        this.protocolError = `the server announced a body of ${length} bytes`;
        return;
      }
      const attached = (listed ?? []).reduce((sum, n) => sum + n, 0);
      if (attached > length) {
        this.protocolError = `the server listed ${attached} bytes of attachments in a body of ${length}`;
        return;
      }
      if (this.buffer.length < end + 4 + length) return;
      let at = end + 4 + length - attached;
      const body = this.buffer.subarray(end + 4, at).toString('utf8');
      const attachments = listed?.map((n) => Buffer.from(this.buffer.subarray(at, (at += n))));
      this.buffer = this.buffer.subarray(end + 4 + length);
      let message: Json;
      try {
        message = JSON.parse(body) as Json;
      } catch {
        this.protocolError = `the server sent a body that is not JSON: ${body.slice(0, 200)}`;
        return;
      }
      this.seq += 1;
      this.queue.push(attachments ? { message, seq: this.seq, attachments } : { message, seq: this.seq });
      if (message !== null && typeof message === 'object' && !Array.isArray(message) && 'id' in message && !('method' in message)) {
        this.responseIds.push(message.id);
      }
      this.onMessage?.(message);
    }
  }
}

function frame(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** Splits `{digest}` off a challenge message or a response (section 3.3); undefined when there is none. */
function digestPrefix(bytes: Buffer): { digest: string; rest: Buffer } | undefined {
  if (bytes[0] !== 0x7b) return undefined;
  const close = bytes.indexOf(0x7d);
  if (close < 0 || close > 10) return undefined;
  const digest = bytes.subarray(1, close).toString('latin1');
  return digest in DIGESTS ? { digest, rest: bytes.subarray(close + 1) } : undefined;
}

/** Section 3.3, steps 2 and 5: the answer to a challenge's message. */
function respond(authkey: Buffer, message: Buffer): Buffer {
  const prefixed = message.length === 20 ? undefined : digestPrefix(message);
  if (!prefixed) return createHmac('md5', authkey).update(message).digest();
  return Buffer.concat([Buffer.from(`{${prefixed.digest}}`), createHmac(DIGESTS[prefixed.digest], authkey).update(message).digest()]);
}

/** Section 3.4: whether `response` proves the key for our challenge `message`. */
function verify(authkey: Buffer, message: Buffer, response: Buffer): boolean {
  let digest = 'md5';
  let mac = response;
  if (response.length !== 16 && response.length !== 20) {
    const prefixed = digestPrefix(response);
    if (!prefixed) return false;
    digest = prefixed.digest;
    mac = prefixed.rest;
  }
  const expected = createHmac(DIGESTS[digest], authkey).update(message).digest();
  return expected.length === mac.length && timingSafeEqual(expected, mac);
}

function show(bytes: Buffer): string {
  const printable = /^[\x20-\x7e]*$/.test(bytes.toString('latin1'));
  return printable ? JSON.stringify(bytes.toString('latin1')) : `0x${bytes.subarray(0, 64).toString('hex')}${bytes.length > 64 ? '…' : ''}`;
}
