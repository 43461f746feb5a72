/**
 * A stock vscode-jsonrpc connection, handed the socket after the handshake, speaks to the manager
 * as is: the wire is plain JSON-RPC with Content-Length framing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancellationTokenSource, createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { clientHandshake } from '../../src/common/handshake';
import { ErrorCodes } from '../../src/common/errorCodes';
import { AUTHKEY, openSocket, startManager } from '../helpers/manager';

async function stockConnection(address: string) {
  const socket = await openSocket(address);
  const head = await clientHandshake(socket, Buffer.from(AUTHKEY));
  assert.equal(head.length, 0, 'the server sends nothing after the handshake until asked');
  const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  connection.listen();
  socket.resume();
  return { connection, socket };
}

test('a stock vscode-jsonrpc client initializes, creates a queue, puts and gets', async () => {
  await using manager = await startManager();
  const { connection, socket } = await stockConnection(manager.address);
  const init = await connection.sendRequest<{ protocolVersion: string }>('initialize', { protocolVersion: '1.0', clientInfo: { name: 'vscode-jsonrpc' } });
  assert.equal(init.protocolVersion, '1.0');
  const token = await connection.sendRequest<{ id: string }>('object/create', { typeid: 'Queue' });
  await connection.sendRequest('object/call', { id: token.id, method: 'put', args: [{ $tuple: [1, 2] }] });
  assert.deepEqual(await connection.sendRequest('object/call', { id: token.id, method: 'get' }), { $tuple: [1, 2] });
  const empty = await connection.sendRequest('object/call', { id: token.id, method: 'get', kwargs: { timeout: 0.01 } }).catch((e) => e);
  assert.ok(empty instanceof ResponseError);
  assert.equal(empty.code, ErrorCodes.RemoteException);
  assert.equal((empty.data as { type: string }).type, 'Empty');
  connection.dispose();
  socket.destroy();
});

test("vscode-jsonrpc's own cancellation withdraws a blocked get with no side effect", async () => {
  await using manager = await startManager();
  const { connection, socket } = await stockConnection(manager.address);
  await connection.sendRequest('initialize', { protocolVersion: '1.0' });
  const token = await connection.sendRequest<{ id: string }>('object/create', { typeid: 'Queue' });
  const source = new CancellationTokenSource();
  const blocked = connection.sendRequest('object/call', { id: token.id, method: 'get' }, source.token).catch((e) => e);
  // Make sure the get reached the server before cancelling it.
  assert.equal(await connection.sendRequest('object/call', { id: token.id, method: 'qsize' }), 0);
  source.cancel();
  const outcome = await blocked;
  assert.ok(outcome instanceof ResponseError || outcome instanceof Error, 'the get did not return an item');
  await connection.sendRequest('object/call', { id: token.id, method: 'put', args: ['kept'] });
  assert.equal(await connection.sendRequest('object/call', { id: token.id, method: 'qsize' }), 1, 'nothing was taken');
  connection.dispose();
  socket.destroy();
});
