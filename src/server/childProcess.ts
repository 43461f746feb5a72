/**
 * Runs a manager in a child process (BaseManager.start()). The child is the CLI in a hidden
 * `serve --child` mode: it gets its registrations over the IPC channel (so the authkey never
 * appears in a process listing), answers with its bound address, and shuts down when the parent
 * asks or goes away.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LimitOptions } from './limits';
import { pemText, type ServerTlsOptions } from './tlsWrap';
import { storeTlsAsText, type StoreTlsOptions } from './store';

import type { SharedSpec } from './manager';

/** How the parent configures the child. */
export interface ChildConfig {
  address: string;
  authkey: Buffer;
  shared: readonly SharedSpec[];
  config?: string;
  builtins: boolean;
  inspection: boolean;
  allowRemoteShutdown: boolean;
  handshakeTimeoutMs?: number;
  maxMessageBytes?: number;
  maxConnections?: number;
  limits?: LimitOptions;
  tls?: ServerTlsOptions;
  plaintextAddress?: string;
  livenessTimeoutMs?: number;
  stateFile?: string;
  store?: string;
  storePrefix?: string;
  storeLeaseMs?: number;
  storeTls?: StoreTlsOptions;
  log?: (message: string) => void;
}

/** Messages over the IPC channel. */
export type ChildMessage =
  | { type: 'configure'; address: string; authkeyHex: string; shared: SharedSpec[]; config?: string; builtins: boolean; inspection: boolean; allowRemoteShutdown: boolean; handshakeTimeoutMs?: number; maxMessageBytes?: number; maxConnections?: number; limits?: LimitOptions; tls?: ServerTlsOptions; plaintextAddress?: string; livenessTimeoutMs?: number; stateFile?: string; store?: string; storePrefix?: string; storeLeaseMs?: number; storeTls?: StoreTlsOptions }
  | { type: 'ready'; address: string }
  | { type: 'failed'; message: string }
  | { type: 'log'; message: string }
  | { type: 'shutdown' };

/** A running child manager. */
export interface ChildManager {
  readonly address: string;
  readonly pid: number;
  /** Resolves when the child has exited. */
  readonly exited: Promise<void>;
  /** Asks the child to shut down; kills it if it has not exited in time. */
  stop(timeoutMs?: number): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/** The Node flags that run the CLI from its TypeScript source. */
const TYPESCRIPT_LOADER: readonly string[] = ['--import', 'tsx'];

/**
 * The CLI entry next to this module: the bundle in `dist/`, or the TypeScript source under tsx.
 * `loader` is what running `file` needs and nothing else (the TypeScript loader from source, none
 * for the bundle); `execArgv` is this process's own flags besides, for a child meant to run as this one does.
 */
export function cliEntry(): { file: string; execArgv: string[]; loader: string[] } {
  if (__filename.endsWith('.ts')) {
    const hasTsx = process.execArgv.some((a, i) => a === 'tsx' && process.execArgv[i - 1] === '--import') || process.execArgv.includes('--import=tsx');
    const own = withoutProgramCode(process.execArgv);
    return { file: join(__dirname, 'cli.ts'), execArgv: hasTsx ? own : [...own, ...TYPESCRIPT_LOADER], loader: [...TYPESCRIPT_LOADER] };
  }
  return { file: bundledCli(), execArgv: withoutProgramCode(process.execArgv).filter((a) => !a.startsWith('--inspect')), loader: [] };
}

/** Node's flags that give it the program itself as code (`node -e CODE`), each followed by the code unless written `--eval=CODE`. */
const PROGRAM_CODE_FLAGS: ReadonlySet<string> = new Set(['-e', '--eval', '-p', '--print', '-pe', '-ep']);

/**
 * `execArgv` without the program's own code (-e, -p and their code) and `--input-type`, which only
 * such code takes: a child given them runs that code again in place of the CLI, and if the code starts a
 * manager, that child starts another.
 */
function withoutProgramCode(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if (PROGRAM_CODE_FLAGS.has(arg) || arg === '--input-type') i++;
    else if (!/^--(eval|print|input-type)=/.test(arg)) kept.push(arg);
  }
  return kept;
}

/** `dist/cli.js` of the package this bundle belongs to, whichever bundle (server, extension, example) runs. */
function bundledCli(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const beside = join(dir, 'cli.js');
    if (existsSync(beside)) return beside;
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'syncmanager') return join(dir, 'dist', 'cli.js');
    if (dirname(dir) === dir) throw new Error(`cannot find syncmanager's cli.js above ${__dirname}`);
  }
}

/** Forks the child, configures it, and resolves once it listens. */
export function startChildManager(config: ChildConfig): Promise<ChildManager> {
  const entry = cliEntry();
  const child = fork(entry.file, ['serve', '--child'], { execArgv: entry.execArgv, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    process.stderr.write(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the manager child process did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`the manager child process exited (${signal ?? `code ${code}`}) before it was ready${stderr ? `:\n${stderr}` : ''}`));
    };
    child.once('exit', onExit);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'log') config.log?.(message.message);
      else if (message.type === 'failed') {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.kill('SIGKILL');
        reject(new Error(message.message));
      } else if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(handle(child, message.address, exited));
      }
    });
    const configure: ChildMessage = {
      type: 'configure',
      address: config.address,
      authkeyHex: config.authkey.toString('hex'),
      shared: [...config.shared],
      config: config.config,
      builtins: config.builtins,
      inspection: config.inspection,
      allowRemoteShutdown: config.allowRemoteShutdown,
      handshakeTimeoutMs: config.handshakeTimeoutMs,
      maxMessageBytes: config.maxMessageBytes,
      maxConnections: config.maxConnections,
      limits: config.limits,
      plaintextAddress: config.plaintextAddress,
      tls: config.tls && { cert: pemText(config.tls.cert), key: pemText(config.tls.key), ...(config.tls.ca ? { ca: pemText(config.tls.ca) } : {}) },
      livenessTimeoutMs: config.livenessTimeoutMs,
      stateFile: config.stateFile,
      store: config.store,
      storePrefix: config.storePrefix,
      storeLeaseMs: config.storeLeaseMs,
      storeTls: storeTlsAsText(config.storeTls),
    };
    child.send(configure);
  });
}

function handle(child: ChildProcess, address: string, exited: Promise<void>): ChildManager {
  return {
    address,
    pid: child.pid!,
    exited,
    stop(timeoutMs = 5000) {
      return stopProcess(child, exited, timeoutMs, () => {
        if (child.connected) child.send({ type: 'shutdown' } satisfies ChildMessage);
        else child.kill('SIGTERM');
      });
    },
  };
}

/**
 * Asks a child process to stop (`ask`), and kills it if it has not exited within `timeoutMs`.
 * Resolves when it has exited; at once if it already has.
 */
export async function stopProcess(child: ChildProcess, exited: Promise<unknown>, timeoutMs: number, ask: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  ask();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}
