/**
 * What the README says of Python's own manager clients across a manager restart, checked: an
 * unmodified BaseManager client's proxies fail after the restart, even those of a new manager
 * object in the same process (CPython keeps the dead connection for the address), while a new
 * process gets the shared queue back, with the item that `serve --state` kept.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildCli, killServer, serveProcess, stopServer } from '../helpers/serverProcess';
import { python2, python3s, pythonEnv, startPython } from '../python/helpers';
import { testFolder } from '../helpers/tempFolder';

before(buildCli);

const script = join(__dirname, 'fixtures', 'cpython_after_restart.py');
const newest = python3s().at(-1);
const pythons = [python2(), newest].filter((p) => p !== undefined);

test('there is a Python to run the unmodified client with', () => {
  assert.ok(pythons.length > 0, 'no CPython under pyenv');
});

for (const python of pythons) {
  test(`${python.label}: an unmodified client's proxies fail after a restart, a new manager object's too; a new process gets the kept item`, { timeout: 120_000 }, async (t) => {
    const file = join(testFolder(t, 'cpython'), 'state.json');
    const args = ['--authkey', 'lihui', '--state', file, '--register', 'get_task_queue=Queue'];
    let server = await serveProcess(['--address', '127.0.0.1:0', ...args]);
    const address = server.address;
    const py = startPython(python, script, [address], pythonEnv(address, 'lihui'));
    try {
      await py.waitForLine(/^ready$/);
      assert.equal(await stopServer(server), 0, server.stderr());
      server = await serveProcess(['--address', address, ...args]);
      py.send('restarted');
      const finished = await py.finished(60_000);
      assert.equal(finished.code, 0, py.output());
      const failure = '(BrokenPipeError|ConnectionResetError|EOFError|IOError|OSError)';
      assert.match(finished.stdout, new RegExp(`^old proxy: ${failure}$`, 'm'));
      assert.match(finished.stdout, new RegExp(`^new manager object: ${failure}$`, 'm'));
      const fresh = await startPython(python, script, [address, 'fresh'], pythonEnv(address, 'lihui')).finished(60_000);
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.match(fresh.stdout, /^fresh process: queued before the restart, 0 left$/m);
    } finally {
      py.kill('SIGKILL');
      await killServer(server);
    }
  });
}
