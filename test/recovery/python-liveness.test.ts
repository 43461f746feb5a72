/**
 * Liveness in the Python JSON client (clients/python, SPEC 20.1): a call waiting on a manager that
 * stopped answering (SIGSTOP) fails with ConnectionLostError within the configured bound.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildCli, killServer, serveProcess } from '../helpers/serverProcess';
import { python3s, pythonEnv, root, startPython } from '../python/helpers';

before(buildCli);

const clientDir = join(root, 'clients', 'python');
const worker = join(__dirname, 'fixtures', 'liveness_worker.py');
const candidates = python3s().filter((p) => p.minor >= 8);
const pythons = candidates.length > 1 ? [candidates[0], candidates[candidates.length - 1]] : candidates;

for (const python of pythons) {
  test(`${python.label}: a get waiting on a SIGSTOPped manager fails with ConnectionLostError within liveness_timeout`, { timeout: 120_000 }, async () => {
    const server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'k', '--register', 'jobs=Queue']);
    const py = startPython(python, worker, [], { ...pythonEnv(server.address, 'k'), PYTHONPATH: clientDir });
    try {
      await py.waitForLine(/^waiting$/);
      process.kill(server.child.pid!, 'SIGSTOP');
      const finished = await py.finished(60_000);
      assert.equal(finished.code, 0, py.output());
      assert.match(finished.stdout, /^lost: the manager at \S+ did not answer for 0\.5 s \(liveness timeout\): it may be stopped, overloaded or unreachable$/m);
    } finally {
      py.kill('SIGKILL');
      await killServer(server);
    }
  });
}
