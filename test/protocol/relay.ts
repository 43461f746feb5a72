/**
 * A man-in-the-middle relay on 127.0.0.1 for the live-traffic tests: it passes every byte through
 * unchanged, skips the handshake frames, and records each JSON-RPC message of each connection, in
 * both directions, so a test can validate real traffic against protocol/schema.json.
 */
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { ContentLengthDecoder } from '../../src/common/framing';

/** The handshake frames each side sends before the protocol starts (SPEC.md section 3.2). */
const HANDSHAKE_FRAMES_EACH_WAY = 3;

/** What one relayed connection carried, message by message. */
export interface RecordedConnection {
  /** Client → server messages, in order. */
  readonly toServer: unknown[];
  /** Server → client messages, in order. */
  readonly toClient: unknown[];
}

/** A running relay: connect clients to `address` instead of the manager's. */
export interface Relay {
  readonly address: string;
  /** One entry per accepted connection, in the order they were accepted. */
  readonly connections: RecordedConnection[];
  close(): void;
}

/** Passes bytes through; after `skipFrames` handshake frames, records each JSON-RPC message. */
function tap(into: unknown[], skipFrames: number): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  let skipped = 0;
  const decoder = new ContentLengthDecoder((body) => into.push(JSON.parse(body)));
  // Frames with attachments (SPEC 5.1) are recorded as their JSON, $attachment tags and all.
  decoder.acceptAttachments = true;
  return (chunk) => {
    if (skipped === skipFrames) return decoder.push(chunk);
    pending = Buffer.concat([pending, chunk]);
    while (skipped < skipFrames && pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      pending = pending.subarray(4 + pending.readInt32BE(0));
      skipped++;
    }
    if (skipped === skipFrames && pending.length) decoder.push(pending);
  };
}

/** Starts a relay in front of a TCP manager address `host:port`. */
export async function startRelay(managerAddress: string): Promise<Relay> {
  const cut = managerAddress.lastIndexOf(':');
  const host = managerAddress.slice(0, cut);
  const port = Number(managerAddress.slice(cut + 1));
  const connections: RecordedConnection[] = [];
  const sockets: Socket[] = [];
  const relay = createServer((client) => {
    const server = netConnect({ host, port });
    sockets.push(client, server);
    const recorded: RecordedConnection = { toServer: [], toClient: [] };
    connections.push(recorded);
    const up = tap(recorded.toServer, HANDSHAKE_FRAMES_EACH_WAY);
    const down = tap(recorded.toClient, HANDSHAKE_FRAMES_EACH_WAY);
    client.on('data', (d: Buffer) => {
      up(d);
      server.write(d);
    });
    server.on('data', (d: Buffer) => {
      down(d);
      client.write(d);
    });
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(relay.address() as AddressInfo).port}`,
    connections,
    close() {
      for (const s of sockets) s.destroy();
      relay.close();
    },
  };
}

/** Request id → method, for matching each response of one connection to what it answers. */
export function methodsById(toServer: readonly unknown[]): Map<unknown, string> {
  const out = new Map<unknown, string>();
  for (const m of toServer as { id?: unknown; method?: unknown }[]) {
    if (m && typeof m === 'object' && 'id' in m && typeof m.method === 'string') out.set(m.id, m.method);
  }
  return out;
}
