/**
 * The manager server in its own child process, never in the extension host: heavy traffic must not
 * slow VS Code. It is the bundled CLI (`dist/cli.js serve --json`); its log goes to the Output
 * channel; stopping sends SIGTERM (a clean shutdown) and kills it if it has not exited in time.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { SYNC_MANAGER_TYPEIDS } from '../common/syncTypeids';
import { cliEntry, stopProcess } from '../server/childProcess';
import { AUTHKEY_VARIABLE, STORE_VARIABLE } from '../common/environmentVariables';
import { passwordHidingLines, passwordOf } from './model/storeCredentials';

/** How to start the server. */
export interface ServerLaunch {
  address: string;
  authkey: string;
  /** `TYPEID=TYPE(args)` registrations. */
  register: string[];
  /** A config module path, or undefined to look for none. */
  configFile?: string;
  /** Where the shared objects' contents are kept across a clean restart (`serve --state`). */
  stateFile?: string;
  cwd?: string;
  /** `SYNCMANAGER_STORE` (never `--store`: its password would show in `ps`): where the built-in objects live (a redis:// URL); undefined keeps them in memory. */
  store?: string;
  /** `--store-prefix`, with a store: the prefix of its Redis keys (the group of managers it joins). */
  storePrefix?: string;
  /** `--store-lease`, with a store: seconds this manager's clients' holdings outlive it if it dies. */
  storeLeaseSeconds?: number;
  log(line: string): void;
}

/** A running server process. */
export interface ServerProcess {
  readonly address: string;
  readonly pid: number;
  /** Resolves with how it ended: `undefined` after {@link stop}, else the code or signal. */
  readonly exited: Promise<string | undefined>;
  stop(timeoutMs?: number): Promise<void>;
  /**
   * Registers a `TYPEID=TYPE(args)` while serving (`serve --registrations-on-stdin`); resolves with
   * the typeid, rejects with the manager's words when it refuses.
   */
  register(spec: string): Promise<string>;
}

const READY_TIMEOUT_MS = 30_000;

/** Starts the server; resolves once it listens, rejects with its own words if it cannot. */
export function startServerProcess(launch: ServerLaunch): Promise<ServerProcess> {
  const entry = cliEntry();
  // The extension host's own Node flags are not the manager's: only the TypeScript loader (running from source) goes along.
  const args = [...entry.loader, entry.file, 'serve', '--address', launch.address, '--json', '--registrations-on-stdin'];
  for (const r of launch.register) args.push('--register', r);
  args.push(...(launch.configFile ? ['--config', launch.configFile] : ['--no-config']));
  if (launch.stateFile) args.push('--state', launch.stateFile);
  if (launch.store && launch.storePrefix) args.push('--store-prefix', launch.storePrefix);
  if (launch.store && launch.storeLeaseSeconds !== undefined) args.push('--store-lease', String(launch.storeLeaseSeconds));
  // The extension host may be Electron: run its binary as plain Node. The authkey and the store's URL (its
  // password) go by environment, never argv; an empty store overrides one VS Code itself was started with.
  const child = spawn(process.execPath, args, {
    cwd: launch.cwd,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', [AUTHKEY_VARIABLE]: launch.authkey, [STORE_VARIABLE]: launch.store ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stopping = false;
  let output = '';
  // The manager never prints the store's password; should a message of Redis or its client quote it, the log does not.
  const stderr = passwordHidingLines(passwordOf(launch.store), (line) => {
    output = `${output}${line}\n`.slice(-4000);
    launch.log(line);
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => stderr.push(text));
  child.stderr!.on('end', () => stderr.end());
  const exited = new Promise<string | undefined>((resolve) => {
    child.on('exit', (code, signal) => {
      launch.log(`manager process ${child.pid} exited (${signal ?? `code ${code}`})`);
      resolve(stopping ? undefined : (signal ?? `code ${code}`));
    });
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let ready: ServerProcess | undefined;
    /** Answers to registrations, in the order they were sent. */
    const answers: ((line: string) => void)[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the manager did not start within ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      stdout += text;
      // The first line says it is ready; each later one answers a registration.
      for (let newline = stdout.indexOf('\n'); newline >= 0; newline = stdout.indexOf('\n')) {
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        if (ready) {
          answers.shift()?.(line);
          continue;
        }
        clearTimeout(timer);
        try {
          const info = JSON.parse(line) as { address: string; pid: number; typeids: string[] };
          launch.log(`manager process ${child.pid} serving on ${info.address}`);
          launch.log(servedLine(info.typeids));
          ready = handle(child, info.address, exited, () => (stopping = true), answers);
          resolve(ready);
        } catch {
          reject(new Error(`the manager printed something unexpected: ${line.slice(0, 200)}`));
        }
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start the manager: ${error.message}`));
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the manager exited (${how}) before it was ready${output ? `: ${output.trim().split('\n').slice(-3).join(' ')}` : ''}`));
    });
  });
}

/** The log line of what a manager serves, the typeids of its own first. */
function servedLine(typeids: string[]): string {
  const builtin: ReadonlySet<string> = new Set(SYNC_MANAGER_TYPEIDS);
  const own = typeids.filter((t) => !builtin.has(t));
  return own.length
    ? `serving typeids ${own.join(', ')} (and SyncManager's built-in ones)`
    : "serving no typeids of its own (only SyncManager's built-in ones): add some to the syncmanager.register setting";
}

function handle(child: ChildProcess, address: string, exited: Promise<string | undefined>, markStopping: () => void, answers: ((line: string) => void)[]): ServerProcess {
  void exited.then(() => {
    for (const answer of answers.splice(0)) answer(JSON.stringify({ error: 'the manager exited' }));
  });
  return {
    address,
    pid: child.pid!,
    exited,
    register(spec) {
      return new Promise((resolve, reject) => {
        answers.push((line) => {
          const answer = JSON.parse(line) as { registered?: string; error?: string };
          if (answer.registered) resolve(answer.registered);
          else reject(new Error(answer.error ?? `the manager answered ${line}`));
        });
        child.stdin!.write(`${JSON.stringify({ register: spec })}\n`);
      });
    },
    stop(timeoutMs = 5000) {
      return stopProcess(child, exited, timeoutMs, () => {
        markStopping();
        child.kill('SIGTERM');
      });
    },
  };
}
