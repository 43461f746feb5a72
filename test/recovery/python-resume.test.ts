/**
 * Session resumption in the Python JSON client (`connect(resume_within=...)`): through a TCP relay
 * cut for 2 s, it keeps its lock and its dict, and 20 appends in flight (one thread each) take
 * effect once each. The manager runs as its own process.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect, type ManagerClient } from '../../src/client';
import { buildCli, killServer, serveProcess } from '../helpers/serverProcess';
import { startRelay } from '../helpers/tcpRelay';
import { python3s, pythonEnv, root, startPython } from '../python/helpers';

before(buildCli);

const clientDir = join(root, 'clients', 'python');
const script = join(__dirname, 'fixtures', 'resuming_client.py');
const candidates = python3s().filter((p) => p.minor >= 8);
const pythons = candidates.length > 1 ? [candidates[0], candidates[candidates.length - 1]] : candidates;

/** Waits (bounded) until the manager shows session `id` detached. */
async function untilDetached(observer: ManagerClient, id: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let round = 0; round < 2000 && Date.now() < deadline; round++) {
    const session = (await observer.inspection.snapshot()).sessions.find((s) => s.sessionId === id);
    if (session?.resumableUntil !== undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`session ${id} was never shown detached`);
}

for (const python of pythons) {
  test(`${python.label}: a resumed Python JSON client keeps its lock and dict through a 2 s cut, and 20 appends in flight take effect once each`, { timeout: 120_000 }, async () => {
    const server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui']);
    const relay = await startRelay(server.address);
    const observer = await connect({ address: server.address, authkey: 'lihui', name: 'observer', reconnect: false });
    const py = startPython(python, script, [], { ...pythonEnv(relay.address, 'lihui'), PYTHONPATH: clientDir });
    try {
      const [, sessionId, lockId] = await py.waitForLine(/^ready (\S+) (\S+)$/);
      relay.dropDownstream();
      const nullAnswers = relay.countDownstream('"result":null');
      py.send('go');
      // The manager carries out the 20 appends; their answers never reach the client.
      await relay.untilDownstream('"result":null', nullAnswers + 20);
      const cutAt = Date.now();
      relay.cut();
      await untilDetached(observer, sessionId);
      assert.equal(await observer.callById(lockId, 'acquire', [false]), false, 'the lock is still held while detached');
      // The network stays down for 2 s (the scenario's length, not a synchronisation).
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2000 - (Date.now() - cutAt))));
      relay.mend();
      const [, json] = await py.waitForLine(/^outcome (.*)$/, 60_000);
      const outcome = JSON.parse(json);
      assert.deepEqual(outcome, { errors: [], items: Array.from({ length: 20 }, (_, n) => n), kept: 1, locked: true, sameSession: true, resumed: true }, py.output());
      assert.equal(relay.countUpstream('"append"'), 40, 'the 20 appends in flight were sent again after the resumption');
      const finished = await py.finished(30_000);
      assert.equal(finished.code, 0, py.output());
      assert.match(finished.stdout, /^restored resumed=True$/m);
    } finally {
      py.kill('SIGKILL');
      await observer.close();
      await relay.close();
      await killServer(server);
    }
  });
}
