/**
 * Managers of a Redis group as separate `syncmanager serve` processes, for a test file that kills
 * them by PID: each serves the seed's `get_task_queue` with a one-second lease, and any a test
 * left running is killed after the file's tests.
 */
import { before, after } from 'node:test';
import { AUTHKEY_VARIABLE } from '../../src/common/environmentVariables';
import { AUTHKEY } from './manager';
import { buildCli, killServer, serveProcess, type ServerProcess } from './serverProcess';

/** Builds the CLI before the file's tests and kills what is left after them; returns how to start a manager. */
export function groupProcesses(redis: { readonly skip: string | undefined; readonly url: string }): {
  /** A manager of the group under `prefix`, on `address` (a free port by default), with `args` added. */
  serveInGroup(prefix: string, options?: { address?: string; args?: string[] }): Promise<ServerProcess>;
} {
  const started: ServerProcess[] = [];
  before(() => {
    if (!redis.skip) buildCli();
  });
  after(async () => {
    for (const server of started) await killServer(server);
  });
  return {
    async serveInGroup(prefix, { address = '127.0.0.1:0', args = [] } = {}) {
      const server = await serveProcess(['--address', address, '--store', redis.url, '--store-prefix', prefix, '--store-lease', '1', '--register', 'get_task_queue=Queue', ...args], {
        [AUTHKEY_VARIABLE]: AUTHKEY,
      });
      started.push(server);
      return server;
    },
  };
}
