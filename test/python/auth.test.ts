/**
 * Python's own handshake against our server, from every CPython on the machine: the right key
 * connects, a wrong key raises `multiprocessing.AuthenticationError`, and the handshake each
 * Python speaks is the one it should: HMAC-MD5 with a 20-byte challenge up to 3.11 (and 2.7),
 * `{sha256}`-prefixed HMAC-SHA256 from 3.12. A recording relay between Python and our server shows
 * the bytes each side sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { connect as netConnect, createServer, type Server } from 'node:net';
import { connect, type QueueProxy } from '../../src/client';
import { startManager } from '../helpers/manager';
import { assertExitedCleanly, fixture, pythonEnv, requirePythons, runPython } from './helpers';

const AUTHKEY = 'the-right-key';

/** The frames (4-byte big-endian length, then the payload) of a byte stream, as far as complete. */
function frames(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 4 <= stream.length; ) {
    const n = stream.readInt32BE(at);
    if (n < 0 || at + 4 + n > stream.length) break;
    out.push(stream.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

interface Recorded {
  fromClient: Buffer;
  fromServer: Buffer;
}

/** A TCP relay to `target` that records both directions of every connection. */
async function recordingRelay(target: string): Promise<{ address: string; connections: Recorded[]; server: Server; close(): Promise<void> }> {
  const i = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, i), Number(target.slice(i + 1))];
  const connections: Recorded[] = [];
  const server = createServer((client) => {
    const record: Recorded = { fromClient: Buffer.alloc(0), fromServer: Buffer.alloc(0) };
    connections.push(record);
    const upstream = netConnect({ host, port });
    client.on('data', (d: Buffer) => {
      record.fromClient = Buffer.concat([record.fromClient, d]);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      record.fromServer = Buffer.concat([record.fromServer, d]);
      client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: relayPort } = server.address() as import('node:net').AddressInfo;
  return {
    address: `127.0.0.1:${relayPort}`,
    connections,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test("Python's handshake against our server: the right key connects, a wrong key raises AuthenticationError, in each Python's own form", async (t) => {
  for (const py of requirePythons()) {
    const modern = py.major > 3 || (py.major === 3 && py.minor >= 12);
    await t.test(`${py.label} (${modern ? 'HMAC-SHA256, {sha256} prefix' : 'legacy HMAC-MD5'})`, { timeout: 30_000 }, async () => {
      await using manager = await startManager({ authkey: AUTHKEY }, (m) => m.register('get_queue', { shared: 'Queue' }));
      const relay = await recordingRelay(manager.address);
      try {
        const env = pythonEnv(relay.address, '');

        const wrong = await runPython(py, fixture('connect_check.py'), ['not-the-key'], env);
        assertExitedCleanly(wrong, 'connect_check.py with a wrong key');
        assert.equal(wrong.stdout.trim(), 'AuthenticationError digest sent was rejected', wrong.stdout + wrong.stderr);

        const right = await runPython(py, fixture('connect_check.py'), [AUTHKEY], env);
        assertExitedCleanly(right, 'connect_check.py with the right key');
        assert.equal(right.stdout.trim(), 'connected 1');
        await using client = await connect<{ get_queue: QueueProxy<number> }>({ address: manager.address, authkey: AUTHKEY, name: 'auth-check' });
        assert.equal(await (await client.get_queue()).get({ timeout: 1 }), py.major, 'the put reached the shared queue');

        // The bytes: connection 0 is the wrong key's, connection 1 the right key's `dummy`.
        assert.ok(relay.connections.length >= 2, `${relay.connections.length} connections went through the relay`);
        const [bad, good] = relay.connections;
        const serverChallenge = frames(good.fromServer)[0];
        assert.equal(serverChallenge.toString('latin1', 0, 19), '#CHALLENGE#{sha256}', 'our server offers the modern challenge');
        const message = serverChallenge.subarray('#CHALLENGE#'.length);
        const key = Buffer.from(AUTHKEY);
        const [response, clientChallenge] = frames(good.fromClient);
        if (modern) {
          assert.equal(response.toString('latin1', 0, 8), '{sha256}', 'a 3.12+ client answers with {sha256}');
          assert.ok(response.subarray(8).equals(createHmac('sha256', key).update(message).digest()));
          assert.equal(clientChallenge.toString('latin1', 0, 19), '#CHALLENGE#{sha256}', 'and challenges with {sha256}');
          assert.equal(clientChallenge.length, 19 + 40);
        } else {
          assert.equal(response.length, 16, 'a legacy client answers with a bare 16-byte HMAC-MD5');
          assert.ok(response.equals(createHmac('md5', key).update(message).digest()), 'over the whole message after #CHALLENGE#');
          assert.equal(clientChallenge.toString('latin1', 0, 11), '#CHALLENGE#');
          assert.equal(clientChallenge.length, 11 + 20, 'and challenges with 20 random bytes');
        }
        const serverFrames = frames(good.fromServer);
        assert.equal(serverFrames[1].toString('latin1'), '#WELCOME#');
        const serverResponse = serverFrames[2];
        const clientMessage = clientChallenge.subarray('#CHALLENGE#'.length);
        if (modern) {
          assert.equal(serverResponse.toString('latin1', 0, 8), '{sha256}', 'our server answers a modern challenge in kind');
          assert.ok(serverResponse.subarray(8).equals(createHmac('sha256', key).update(clientMessage).digest()));
        } else {
          assert.ok(serverResponse.equals(createHmac('md5', key).update(clientMessage).digest()), 'our server answers a legacy challenge with bare HMAC-MD5');
        }
        assert.equal(frames(good.fromClient)[2]?.toString('latin1'), '#WELCOME#', 'the client accepted our proof');

        // The wrong key: our server refused the response with #FAILURE#, and that was all.
        const badServer = frames(bad.fromServer);
        assert.equal(badServer[1]?.toString('latin1'), '#FAILURE#');
        assert.equal(badServer.length, 2);
      } finally {
        await relay.close();
      }
    });
  }
});
