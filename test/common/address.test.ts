import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressError, formatAddress, isLoopbackHost, parseAddress, parseAddresses } from '../../src/common/address';

test('host:port, [v6]:port, Python pairs and objects parse to TCP addresses', () => {
  assert.deepEqual(parseAddress('127.0.0.1:50000'), { kind: 'tcp', host: '127.0.0.1', port: 50000 });
  assert.deepEqual(parseAddress('[::1]:5000'), { kind: 'tcp', host: '::1', port: 5000 });
  assert.deepEqual(parseAddress(['', 5000]), { kind: 'tcp', host: '0.0.0.0', port: 5000 }, "Python's '' means every interface");
  assert.deepEqual(parseAddress({ host: 'localhost', port: 1 }), { kind: 'tcp', host: 'localhost', port: 1 });
  assert.equal(formatAddress(parseAddress('[::1]:5000')), '[::1]:5000');
});

test('anything with a slash or backslash is a socket path or a named pipe', () => {
  assert.deepEqual(parseAddress('/tmp/sm.sock'), { kind: 'ipc', path: '/tmp/sm.sock' });
  assert.deepEqual(parseAddress('./sm.sock'), { kind: 'ipc', path: './sm.sock' });
  assert.deepEqual(parseAddress('\\\\.\\pipe\\sm'), { kind: 'ipc', path: '\\\\.\\pipe\\sm' });
});

test('malformed addresses say what is wrong', () => {
  assert.throws(() => parseAddress(''), /empty/);
  assert.throws(() => parseAddress('localhost'), (e: unknown) => e instanceof AddressError && /has no port/.test((e as Error).message));
  assert.throws(() => parseAddress('::1:5000'), /IPv6 host in brackets/);
  assert.throws(() => parseAddress('host:http'), /port "http" is not a number/);
  assert.throws(() => parseAddress('host:70000'), /port must be 0\.\.65535/);
});

test('loopback hosts are told from reachable ones', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com']) assert.ok(!isLoopbackHost(h), h);
});

test('a comma-separated list names several managers, in order; one address is a list of one', () => {
  assert.deepEqual(parseAddresses('127.0.0.1:1, [::1]:2'), [
    { kind: 'tcp', host: '127.0.0.1', port: 1 },
    { kind: 'tcp', host: '::1', port: 2 },
  ]);
  assert.deepEqual(parseAddresses(['h', 3]), [{ kind: 'tcp', host: 'h', port: 3 }]);
  assert.throws(() => parseAddresses('127.0.0.1:1,'), /empty entry/);
  assert.throws(() => parseAddresses('127.0.0.1:1,localhost'), /"localhost" has no port/);
});
