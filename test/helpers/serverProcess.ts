/**
 * A manager as a separate process (the built CLI), so a test can SIGKILL it by PID and start it
 * again on the same port, as a crash and a restart would.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ADDRESS_VARIABLE, AUTHKEY_VARIABLE, STORE_VARIABLE } from '../../src/common/environmentVariables';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');

/** Builds dist/cli.js once per test file (call from `before`). */
export function buildCli(): void {
  const build = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`esbuild failed: ${build.stderr}`);
}

/** A running `syncmanager serve`. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** The address it serves, from its `--json` ready line. */
  readonly address: string;
  /** Resolves with the exit code (or signal name) once it has exited. */
  readonly exited: Promise<number | string | null>;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
}

/** A `syncmanager serve` child that has printed its ready output. */
export interface ReadyServe {
  readonly child: ChildProcess;
  /** What it printed to stdout up to its ready output. */
  readonly stdout: string;
  /** Resolves with the exit code and signal once it has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
}

/** Starts `syncmanager serve ARGS` and waits (20 s at most) until its stdout matches `ready`. */
export function spawnServe(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; ready: RegExp }): Promise<ReadyServe> {
  const child = spawn(process.execPath, [cli, 'serve', ...args], { cwd: options.cwd ?? root, env: { ...process.env, [ADDRESS_VARIABLE]: '', [AUTHKEY_VARIABLE]: '', [STORE_VARIABLE]: '', ...options.env } });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready in 20 s:\n${stdout}\n${stderr}`));
    }, 20_000);
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (!options.ready.test(stdout)) return;
      clearTimeout(timer);
      resolve({ child, stdout, exited, stderr: () => stderr });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready:\n${stdout}\n${stderr}`));
    });
  });
}

/** Starts `syncmanager serve --json --quiet --no-config ARGS` and waits for its ready line (20 s at most). */
export async function serveProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const ready = await spawnServe(['--json', '--quiet', '--no-config', ...args], { env, ready: /^\{.*\}$/m });
  const line = /^\{.*\}$/m.exec(ready.stdout)![0];
  return {
    child: ready.child,
    address: JSON.parse(line).address,
    exited: ready.exited.then(({ code, signal }) => code ?? signal),
    stderr: ready.stderr,
  };
}

/** SIGKILLs the process by its PID and waits until it has exited. */
export async function killServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) process.kill(server.child.pid!, 'SIGKILL');
  await server.exited;
}

/** Stops the server as Ctrl-C would (SIGTERM, by its PID) and resolves with its exit code once it has exited. */
export async function stopServer(server: ServerProcess): Promise<number | string | null> {
  process.kill(server.child.pid!, 'SIGTERM');
  return server.exited;
}
