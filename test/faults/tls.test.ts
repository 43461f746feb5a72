/**
 * TLS: `syncmanager serve --tls-cert --tls-key [--tls-ca]`, reached by the TypeScript client and
 * the Python JSON client; the authkey handshake runs inside TLS unchanged. A client trusting the
 * wrong CA is refused, and with --tls-ca so is a client without a certificate signed by it.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect, type ClientTlsOptions, type QueueProxy } from '../../src/client';
import { Manager } from '../../src/server';
import { pythonAddressLiteral, pythonEnv, python3s, root, runPython } from '../python/helpers';
import { makeCertificates, type TestCertificates } from './certificates';
import { fileFolder } from '../helpers/tempFolder';
import { serveBounded } from './boundedServer';

const KEY = 'tls-key';
let certs: TestCertificates;

const certsFolder = fileFolder('tls');

before(() => {
  certs = makeCertificates(certsFolder);
});

/** A put and a get through the TS client. */
async function roundTrip(address: string, tls: ClientTlsOptions | undefined, timeout = 10): Promise<number> {
  const client = await connect<{ jobs: QueueProxy<number> }>({ address, authkey: KEY, tls, timeout });
  try {
    const jobs = await client.jobs();
    await jobs.put(5);
    return await jobs.get();
  } finally {
    await client.close();
  }
}

/** The Python JSON client's round trip through an ssl.SSLContext, under the newest Python 3.8+. */
async function pythonRoundTrip(address: string, contextLines: string[]): Promise<string> {
  const python = python3s().filter((p) => p.minor >= 8).at(-1);
  assert.ok(python, 'a CPython 3.8+ is needed');
  const script = [
    'import ssl, syncmanager_client',
    ...contextLines,
    `m = syncmanager_client.connect(${JSON.stringify(address)}, ${JSON.stringify(KEY)}, ssl_context=context)`,
    'q = m.jobs()',
    'q.put(9)',
    "print('got', q.get())",
    'm.close()',
  ].join('\n');
  const result = await runPython(python, ['-c', script], [], { ...pythonEnv(address, KEY), PYTHONPATH: join(root, 'clients', 'python') });
  return `${result.stdout}${result.stderr}`;
}

test('TLS: the TS and the Python JSON client round-trip over TLS; the wrong CA and a plaintext client are refused', async () => {
  await using server = await serveBounded(KEY, ['--register', 'jobs=Queue', '--tls-cert', certs.serverCertFile, '--tls-key', certs.serverKeyFile], 256);
  assert.equal(await roundTrip(server.address, { ca: certs.pem(certs.caFile) }), 5);
  assert.match(await pythonRoundTrip(server.address, [`context = ssl.create_default_context(cafile=${JSON.stringify(certs.caFile)})`]), /^got 9$/m);
  await assert.rejects(roundTrip(server.address, { ca: certs.pem(certs.wrongCaFile) }), /TLS failed/);
  assert.match(await pythonRoundTrip(server.address, [`context = ssl.create_default_context(cafile=${JSON.stringify(certs.wrongCaFile)})`]), /CERTIFICATE_VERIFY_FAILED/);
  // A plaintext client waits for a challenge that never comes in the clear: it gives up at its timeout.
  await assert.rejects(roundTrip(server.address, undefined, 2));
  assert.ok(server.alive());
});

test('TLS with --tls-ca: a client must present a certificate the CA signed; one another CA signed, or its own, is refused', async () => {
  await using server = await serveBounded(KEY, ['--register', 'jobs=Queue', '--tls-cert', certs.serverCertFile, '--tls-key', certs.serverKeyFile, '--tls-ca', certs.caFile], 256);
  const ca = certs.pem(certs.caFile);
  assert.equal(await roundTrip(server.address, { ca, cert: certs.pem(certs.clientCertFile), key: certs.pem(certs.clientKeyFile) }), 5);
  await assert.rejects(roundTrip(server.address, { ca }));
  // A certificate the CA did not sign is refused like none: another CA's, or the client's own.
  await assert.rejects(roundTrip(server.address, { ca, cert: certs.pem(certs.strangerCertFile), key: certs.pem(certs.strangerKeyFile) }));
  await assert.rejects(roundTrip(server.address, { ca, cert: certs.pem(certs.wrongCaFile), key: certs.pem(certs.wrongCaFile.replace(/\.pem$/, '.key')) }));
  const stranger = await pythonRoundTrip(server.address, [
    `context = ssl.create_default_context(cafile=${JSON.stringify(certs.caFile)})`,
    `context.load_cert_chain(${JSON.stringify(certs.strangerCertFile)}, ${JSON.stringify(certs.strangerKeyFile)})`,
  ]);
  assert.doesNotMatch(stranger, /^got 9$/m);
  assert.match(server.process.output(), /certificate/i);
  const withCert = await pythonRoundTrip(server.address, [
    `context = ssl.create_default_context(cafile=${JSON.stringify(certs.caFile)})`,
    `context.load_cert_chain(${JSON.stringify(certs.clientCertFile)}, ${JSON.stringify(certs.clientKeyFile)})`,
  ]);
  assert.match(withCert, /^got 9$/m);
  assert.ok(server.alive());
});

test('a Manager serves TLS from PEM given as options, with servername checked against the certificate', async () => {
  await using manager = new Manager({ address: '127.0.0.1:0', authkey: KEY, tls: { cert: certs.pem(certs.serverCertFile), key: certs.pem(certs.serverKeyFile) } });
  manager.register('jobs', { shared: 'Queue' });
  await manager.listen();
  assert.equal(await roundTrip(manager.address, { ca: certs.pem(certs.caFile), servername: 'localhost' }), 5);
  await assert.rejects(roundTrip(manager.address, { ca: certs.pem(certs.caFile), servername: 'elsewhere.example' }), /TLS failed/);
});

test('--plaintext-address: an unmodified CPython client on the loopback plaintext port shares objects with a TLS client', async () => {
  await using server = await serveBounded(KEY, ['--register', 'jobs=Queue', '--tls-cert', certs.serverCertFile, '--tls-key', certs.serverKeyFile, '--plaintext-address', '127.0.0.1:0'], 256);
  const plain = String(server.ready.plaintextAddress);
  assert.match(plain, /^127\.0\.0\.1:\d+$/);
  const python = python3s().at(-1);
  assert.ok(python, 'a CPython 3 is needed');
  const script = [
    'from multiprocessing.managers import BaseManager',
    'class M(BaseManager): pass',
    "M.register('jobs')",
    `m = M(address=${pythonAddressLiteral(plain)}, authkey=${JSON.stringify(KEY)}.encode()); m.connect()`,
    'm.jobs().put(4)',
    "print('put')",
  ].join('\n');
  const result = await runPython(python, ['-c', script], [], { ...process.env, PYTHONDONTWRITEBYTECODE: '1' });
  assert.match(result.stdout, /^put$/m, `${result.stdout}\n${result.stderr}`);
  const client = await connect<{ jobs: QueueProxy<number> }>({ address: server.address, authkey: KEY, tls: { ca: certs.pem(certs.caFile) } });
  assert.equal(await (await client.jobs()).get(), 4);
  await client.close();
  await assert.rejects(new Manager({ address: '127.0.0.1:0', authkey: KEY, tls: { cert: certs.pem(certs.serverCertFile), key: certs.pem(certs.serverKeyFile) }, plaintextAddress: '0.0.0.0:0' }).listen(), /must be a loopback address/);
});

