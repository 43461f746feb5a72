/**
 * The fault tests' server: `syncmanager serve` from `dist/` in a child process whose V8 heap is
 * capped, so a defect that makes the server grow without bound ends that process (and fails the
 * test) instead of taking the machine's memory. Killed by PID when the test file ends.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildDist, root, start, type Finished, type Running } from '../python/helpers';

/** A served CLI with a capped heap. */
export interface BoundedServer extends AsyncDisposable {
  readonly address: string;
  /** The whole ready line. */
  readonly ready: Record<string, unknown>;
  readonly process: Running;
  /** Whether the process is still running. */
  alive(): boolean;
  stop(): Promise<Finished>;
}

/** Starts `syncmanager serve` on 127.0.0.1 port 0 with the key in the environment and `heapMiB` of V8 heap. */
export async function serveBounded(authkey: string, extraArgs: string[] = [], heapMiB = 1024, fileLimit?: number): Promise<BoundedServer> {
  buildDist();
  const args = [`--max-old-space-size=${heapMiB}`, join(root, 'dist', 'cli.js'), 'serve', '--address', '127.0.0.1:0', '--no-config', '--json', ...extraArgs];
  // A file-descriptor limit is set by the shell, which then becomes node (same PID, killed as such).
  const [command, commandArgs] = fileLimit === undefined ? [process.execPath, args] : ['/bin/sh', ['-c', `ulimit -n ${fileLimit} && exec "$0" "$@"`, process.execPath, ...args]];
  const proc = start(command, commandArgs, { env: { ...process.env, SYNCMANAGER_AUTHKEY: authkey, SYNCMANAGER_ADDRESS: '' }, name: 'syncmanager serve (bounded heap)' });
  const [line] = await proc.waitForLine(/^\{.*\}$/, 20_000);
  const ready = JSON.parse(line) as { address: string } & Record<string, unknown>;
  assert.match(ready.address, /^127\.0\.0\.1:\d+$/, `the ready line names a TCP address: ${line}`);
  const alive = () => proc.child.exitCode === null && proc.child.signalCode === null;
  const stop = async () => {
    if (alive()) proc.kill('SIGINT');
    return proc.finished(10_000);
  };
  return { address: ready.address, ready, process: proc, alive, stop, [Symbol.asyncDispose]: async () => void (await stop()) };
}
