/**
 * A manager as a separate process (the built CLI), so a test can SIGKILL it by PID and start it
 * again on the same port, as a crash and a restart would.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

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

/** Starts `syncmanager serve --json --quiet --no-config ARGS` and waits for its ready line (20 s at most). */
export function serveProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [cli, 'serve', '--json', '--quiet', '--no-config', ...args], { cwd: root, env: { ...process.env, SYNCMANAGER_AUTHKEY: '', ...env } });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready in 20 s:\n${stdout}\n${stderr}`));
    }, 20_000);
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.on('data', (d) => {
      stdout += d;
      const line = /^\{.*\}$/m.exec(stdout);
      if (!line) return;
      clearTimeout(timer);
      resolve({ child, address: JSON.parse(line[0]).address, exited, stderr: () => stderr });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready:\n${stdout}\n${stderr}`));
    });
  });
}

/** SIGKILLs the process by its PID and waits until it has exited. */
export async function killServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) process.kill(server.child.pid!, 'SIGKILL');
  await server.exited;
}
