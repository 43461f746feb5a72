/**
 * A client given several addresses (managers of one group) connects to the first that answers
 * and, when its connection is lost, reconnects to the others in turn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { connect } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';

/** An address nothing listens on: a port taken and let go again. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

test('connect tries the addresses of a list in turn and reconnects to the next one when its manager stops', async () => {
  const dead = await deadAddress();
  const a = await startManager();
  const b = await startManager();
  const client = await connect({ address: `${dead},${a.address},${b.address}`, authkey: AUTHKEY, reconnect: { initialDelayMs: 10, maxDelayMs: 50, maxMs: 10_000 } });
  try {
    const first = client.sessionId;
    assert.ok([...a.connectedSessions].some((s) => s.id === first), 'connected to the first address that answers');
    const restored = new Promise<{ resumed: boolean }>((resolve) => client.on('restored', resolve));
    await a.shutdown();
    assert.equal((await restored).resumed, false);
    assert.ok([...b.connectedSessions].some((s) => s.id === client.sessionId), 'reconnected to the next address of the list');
    assert.equal(client.connected, true);
  } finally {
    await client.close();
    await b.shutdown();
    await a.shutdown();
  }
});
