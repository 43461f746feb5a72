/**
 * Test helpers: an in-process manager on 127.0.0.1 port 0, and a raw protocol client that speaks
 * frames by hand, for the tests that must send what no well-behaved client would.
 */

import { connect as netConnect, type Socket } from 'node:net';
import { clientHandshake } from '../../src/common/handshake';
import { ContentLengthDecoder, frameMessage, frameWithAttachments } from '../../src/common/framing';
import { Manager, type ManagerOptions } from '../../src/server';

export const AUTHKEY = 'test-key';

/** A redis:// URL that the shared suites' managers keep their objects in (set by runSuiteInRedis). */
export const TEST_STORE_VARIABLE = 'SYNCMANAGER_TEST_STORE';

let storePrefixes = 0;

/**
 * Starts a manager; the caller shuts it down (use `await using`, or `t.after`). With
 * SYNCMANAGER_TEST_STORE set (a redis:// URL), its objects live in that store: how the Redis
 * runs of the shared suites (test/redis/) run them unchanged.
 */
export async function startManager(options: ManagerOptions = {}, setup?: (m: Manager) => void): Promise<Manager> {
  const store = process.env[TEST_STORE_VARIABLE];
  // Each manager a prefix of its own, as each in-memory manager starts empty.
  const inStore = store ? { store, storePrefix: `test-${process.pid}-${storePrefixes++}` } : {};
  const manager = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, ...inStore, ...options });
  setup?.(manager);
  await manager.listen();
  return manager;
}

/** Opens a TCP socket to an address `host:port`. */
export function openSocket(address: string): Promise<Socket> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A hand-driven JSON-RPC client: send any bytes, read messages in order. */
export class RawClient {
  private readonly messages: unknown[] = [];
  private readonly waiters: ((m: unknown) => void)[] = [];
  private nextId = 1;
  closed: Promise<void>;

  private constructor(readonly socket: Socket, head: Buffer) {
    const decoder = new ContentLengthDecoder((body, attachments) => {
      const message = JSON.parse(body);
      // A frame's attachments (SPEC 5.1) ride along on the message, unresolved, for tests to look at.
      if (attachments) message.attachments = attachments;
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.messages.push(message);
    });
    decoder.acceptAttachments = true;
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    if (head.length) decoder.push(head);
    socket.resume();
  }

  /** Connects and authenticates; optionally initializes. */
  static async open(address: string, options: { initialize?: boolean; authkey?: string } = {}): Promise<RawClient> {
    const socket = await openSocket(address);
    const head = await clientHandshake(socket, Buffer.from(options.authkey ?? AUTHKEY));
    const client = new RawClient(socket, head);
    if (options.initialize !== false) {
      const reply = (await client.request('initialize', { protocolVersion: '1.0', clientInfo: { name: 'raw-test' } })) as { error?: unknown };
      if (reply.error) throw new Error(`initialize failed: ${JSON.stringify(reply.error)}`);
    }
    return client;
  }

  /** The next message, within `ms`. */
  next(ms = 5000): Promise<any> {
    const queued = this.messages.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms);
      this.waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  /** Sends a request and returns its id. */
  send(method: string, params?: unknown, id: number | string = this.nextId++): number | string {
    this.sendJson({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return id;
  }

  /** Sends a request and waits for the next message (use only with nothing else in flight). */
  async request(method: string, params?: unknown): Promise<any> {
    this.send(method, params);
    return this.next();
  }

  sendJson(message: unknown): void {
    this.socket.write(frameMessage(JSON.stringify(message)));
  }

  /** Sends a message in a frame with attachments (SPEC 5.1). */
  sendAttached(message: unknown, attachments: Buffer[]): void {
    this.socket.write(Buffer.concat(frameWithAttachments(JSON.stringify(message), attachments).map((part) => (typeof part === 'string' ? Buffer.from(part) : part))));
  }

  sendRaw(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Creates an object over a raw client; fails the test with the error if the server refuses. */
export async function createOver(c: RawClient, typeid: string, args?: unknown[]): Promise<{ id: string; typeid: string; exposed: string[] }> {
  const reply = await c.request('object/create', { typeid, ...(args ? { args } : {}) });
  if (!reply.result) throw new Error(`create ${typeid} failed: ${JSON.stringify(reply.error)}`);
  return reply.result;
}

/**
 * Sends a call that will block; resolves once the server has parked it: a later call on the same
 * connection was answered, and calls start in order.
 */
export async function sendBlocking(c: RawClient, id: string, method: string, args: unknown[] = []): Promise<number | string> {
  const callId = c.send('object/call', { id, method, args });
  const probe = await c.request('object/call', { id, method: '__repr__' });
  if (!probe.result) throw new Error(`the probe after a blocking ${method} was not answered: ${JSON.stringify(probe.error)}`);
  return callId;
}
