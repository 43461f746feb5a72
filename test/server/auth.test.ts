/**
 * The handshake over real sockets: right key, wrong key, a client that never answers, garbage,
 * and CPython's own multiprocessing.connection.Client in both its legacy and modern forms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { connect, AuthenticationError } from '../../src/client';
import { CHALLENGE, createResponse, frameHandshake, makeChallenge, verifyResponse } from '../../src/common/handshake';
import { AUTHKEY, openSocket, RawClient, startManager } from '../helpers/manager';

/** Reads every byte the server sends until it closes. */
function readUntilClosed(socket: import('node:net').Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

test('the right key opens a session', async () => {
  await using manager = await startManager();
  await using client = await connect({ address: manager.address, authkey: AUTHKEY });
  assert.ok(client.sessionId);
});

test('a wrong key is refused with AuthenticationError, and the server keeps serving', async () => {
  await using manager = await startManager();
  await assert.rejects(connect({ address: manager.address, authkey: 'wrong' }), (e: unknown) => e instanceof AuthenticationError && /rejected the authkey/.test((e as Error).message));
  await using client = await connect({ address: manager.address, authkey: AUTHKEY });
  assert.ok(client.sessionId);
});

test('a server that cannot prove the key is refused by the client', async () => {
  // A server that waves any client through but cannot answer the client's challenge.
  const { createServer } = await import('node:net');
  const impostor = createServer((socket) => {
    socket.write(frameHandshake(makeChallenge()));
    let step = 0;
    socket.on('data', () => {
      if (step++ === 0) {
        socket.write(frameHandshake(Buffer.from('#WELCOME#')));
      } else if (step === 2) {
        socket.write(frameHandshake(Buffer.concat([Buffer.from('{sha256}'), Buffer.alloc(32)])));
      }
    });
  });
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  const { port } = impostor.address() as import('node:net').AddressInfo;
  try {
    const error = await connect({ address: `127.0.0.1:${port}`, authkey: AUTHKEY }).catch((e) => e);
    assert.ok(error instanceof AuthenticationError);
    assert.match(error.message, /could not prove it holds the authkey/);
  } finally {
    impostor.close();
  }
});

test('a client that never answers the challenge is dropped after the handshake timeout', async () => {
  await using manager = await startManager({ handshakeTimeoutMs: 200 });
  const socket = await openSocket(manager.address);
  const received = await readUntilClosed(socket);
  assert.ok(received.subarray(4).toString('latin1').startsWith('#CHALLENGE#{sha256}'), 'the server spoke first');
});

test('garbage instead of a response fails the handshake with #FAILURE# and a close', async () => {
  await using manager = await startManager();
  const socket = await openSocket(manager.address);
  const closed = readUntilClosed(socket);
  socket.write(frameHandshake(Buffer.from('{sha256}' + 'x'.repeat(32))));
  const received = await closed;
  assert.match(received.toString('latin1'), /#FAILURE#/);
});

test('an oversized handshake frame or random bytes close the connection without a reply', async () => {
  await using manager = await startManager();
  for (const bytes of [Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]) {
    const socket = await openSocket(manager.address);
    const closed = readUntilClosed(socket);
    socket.write(bytes);
    const received = await closed;
    assert.doesNotMatch(received.toString('latin1'), /#WELCOME#/);
  }
  const client = await RawClient.open(manager.address);
  assert.ok((await client.request('manager/describe', {})).result, 'still serving');
  client.close();
});

test("responses: the challenge's digest over the whole message, and the legacy bare HMAC-MD5, verify; another prefixed digest does not", () => {
  const key = Buffer.from(AUTHKEY);
  const message = makeChallenge(Buffer.alloc(40, 7)).subarray(CHALLENGE.length);
  assert.ok(verifyResponse(key, message, createResponse(key, message)));
  const prefixed = (digest: string, nodeName: string, m: Buffer) => Buffer.concat([Buffer.from(`{${digest}}`), createHmac(nodeName, key).update(m).digest()]);
  assert.ok(!verifyResponse(key, message, prefixed('md5', 'md5', message)), '{md5} to a {sha256} challenge is a downgrade (SPEC 3.4, since 1.3)');
  assert.ok(!verifyResponse(key, message, prefixed('sha384', 'sha384', message)), 'the answer names the digest the challenge named, no other');
  const sha384Challenge = Buffer.concat([Buffer.from('{sha384}'), Buffer.alloc(40, 7)]);
  assert.ok(verifyResponse(key, sha384Challenge, prefixed('sha384', 'sha384', sha384Challenge)));
  assert.ok(verifyResponse(key, sha384Challenge, createResponse(key, sha384Challenge)));
  assert.ok(verifyResponse(key, message, createHmac('md5', key).update(message).digest()), 'a 3.11 client answers with bare MD5');
  assert.ok(!verifyResponse(Buffer.from('other'), message, createResponse(key, message)));
  assert.ok(!verifyResponse(key, message, Buffer.from('{sha1}0123456789abcdef0123')), 'sha1 is not an allowed digest');
  const legacy = Buffer.alloc(20, 9);
  assert.deepEqual(createResponse(key, legacy), createHmac('md5', key).update(legacy).digest(), 'a legacy challenge is answered with bare MD5');
});

test('a worked example: key lihui and random bytes 0x00..0x27 give the response CPython computes', () => {
  const random = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
  const message = makeChallenge(random).subarray(CHALLENGE.length);
  const response = createResponse(Buffer.from('lihui'), message);
  // python3 -c "import hmac; print(hmac.new(b'lihui', b'{sha256}' + bytes(range(40)), 'sha256').hexdigest())"
  assert.equal(response.toString('latin1', 0, 8), '{sha256}');
  assert.equal(response.subarray(8).toString('hex'), 'a31375b8b4fd84d8aaed2842f840d32ebda15ef15eea51fce1e0ec59c7e1133d');
});

const pythons = ['3.11.7', '3.12.1', '3.13.0'].map((v) => ({ v, bin: `${process.env.HOME}/.pyenv/versions/${v}/bin/python` })).filter((p) => existsSync(p.bin));

for (const { v, bin } of pythons) {
  test(`CPython ${v}'s multiprocessing.connection.Client completes the handshake, and fails it with a wrong key`, async () => {
    await using manager = await startManager();
    const [host, port] = manager.address.split(':');
    const script = `
import sys
from multiprocessing.connection import Client
from multiprocessing import AuthenticationError
try:
    c = Client((${JSON.stringify(host)}, ${port}), authkey=sys.argv[1].encode())
    print('ok')
    c.close()
except AuthenticationError as e:
    print('AuthenticationError', e)
`;
    // Asynchronously: the server runs in this process's event loop.
    const exec = (key: string) =>
      new Promise<string>((resolve) => {
        const p = spawn(bin, ['-c', script, key]);
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (out += d));
        p.on('close', () => resolve(out.trim()));
      });
    assert.equal(await exec(AUTHKEY), 'ok');
    assert.match(await exec('wrong'), /AuthenticationError/);
  });
}

test("Python's own BaseManager connects on the same port and uses a queue registered here", async () => {
  const python = pythons.find((p) => p.v.startsWith('3.12')) ?? pythons[0];
  assert.ok(python, 'a pyenv Python is on this machine');
  await using manager = await startManager({}, (m) => m.register('get_task_queue', { shared: 'Queue' }));
  const [host, port] = manager.address.split(':');
  const script = `
from multiprocessing.managers import BaseManager
BaseManager.register('get_task_queue')
m = BaseManager(address=(${JSON.stringify(host)}, ${port}), authkey=${JSON.stringify(AUTHKEY)}.encode())
m.connect()
q = m.get_task_queue()
q.put((1, 'two', 3.0))
print(repr(q.get()))
`;
  const out = await new Promise<string>((resolve) => {
    const p = spawn(python.bin, ['-c', script]);
    let text = '';
    p.stdout.on('data', (d) => (text += d));
    p.stderr.on('data', (d) => (text += d));
    p.on('close', () => resolve(text));
  });
  assert.equal(out.trim(), "(1, 'two', 3.0)");
});
