/**
 * What the Python-side tests share: the CPython installs on this machine (pyenv's), our server
 * (the built CLI in a child process, or an in-process Manager), and Python scripts run as child
 * processes whose output the tests wait on line by line.
 *
 * Nothing here sleeps to synchronise: a test waits for a line a script prints, for a process to
 * exit, or for the manager's own state (polled with a bound, see `../helpers/until`). Every wait
 * is bounded, and every process started is killed when the test file ends.
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ADDRESS_VARIABLE, AUTHKEY_VARIABLE } from '../../src/common/environmentVariables';
import { TEST_STORE_VARIABLE } from '../helpers/manager';

export const root = join(__dirname, '..', '..');
export const examplesDir = join(root, 'examples', 'python');
export const fixturesDir = join(__dirname, 'fixtures');

/** One CPython install. */
export interface PythonInstall {
  /** `3.12.1` */
  version: string;
  major: number;
  minor: number;
  /** The interpreter. */
  bin: string;
  /** `CPython 3.12.1`: the name its subtests carry. */
  label: string;
}

function pyenvRoot(): string {
  if (process.env.PYENV_ROOT && existsSync(process.env.PYENV_ROOT)) return process.env.PYENV_ROOT;
  const asked = spawnSync('pyenv', ['root'], { encoding: 'utf8' });
  if (asked.status === 0 && asked.stdout.trim()) return asked.stdout.trim();
  return join(homedir(), '.pyenv');
}

let found: PythonInstall[] | undefined;

/** Every `$(pyenv root)/versions/<v>/bin/python` (CPython `X.Y.Z` only), oldest first. */
export function findPythons(): PythonInstall[] {
  if (found) return found;
  const versions = join(pyenvRoot(), 'versions');
  const out: PythonInstall[] = [];
  if (existsSync(versions)) {
    for (const name of readdirSync(versions)) {
      const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(name);
      const bin = join(versions, name, 'bin', 'python');
      if (m && existsSync(bin)) out.push({ version: name, major: Number(m[1]), minor: Number(m[2]), bin, label: `CPython ${name}` });
    }
  }
  out.sort((a, b) => a.major - b.major || a.minor - b.minor || a.version.localeCompare(b.version, 'en', { numeric: true }));
  return (found = out);
}

/** The installs of one major version. */
export const python3s = () => findPythons().filter((p) => p.major === 3);
export const python2 = () => findPythons().find((p) => p.major === 2);

/** The first install whose version starts with `prefix` (`3.12`), or undefined. */
export function pythonOf(prefix: string): PythonInstall | undefined {
  return findPythons().find((p) => p.version === prefix || p.version.startsWith(`${prefix}.`));
}

/** Fails unless the machine has a Python at all: these tests prove nothing without one. */
export function requirePythons(): PythonInstall[] {
  const all = findPythons();
  assert.ok(all.length > 0, `no CPython under ${join(pyenvRoot(), 'versions')}: the Python-side tests need pyenv's installs`);
  return all;
}

/** The environment a script runs in: the manager's address and key, unbuffered output, no .pyc files. */
export function pythonEnv(address: string, authkey: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, [ADDRESS_VARIABLE]: address, [AUTHKEY_VARIABLE]: authkey, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...extra };
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  delete env.PYTHONSTARTUP;
  return env;
}

/** Every process started by this module; killed (SIGKILL) when the test file ends. */
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** A running process and its output. */
export interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout so far. */
  stdout(): string;
  /** stderr so far. */
  stderr(): string;
  /** stdout then stderr, for failure messages. */
  output(): string;
  /** The lines of stdout so far. */
  lines(): string[];
  /** Resolves with the first stdout line matching, now or later; rejects if the process exits first or after `ms`. */
  waitForLine(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Writes a line to its stdin. */
  send(line: string): void;
  /** Resolves when it has exited (rejects after `ms`, killing it). */
  finished(ms?: number): Promise<Finished>;
  kill(signal?: NodeJS.Signals): void;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts a process; its output is collected. */
export function start(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; name?: string } = {}): Running {
  const child = spawn(command, args, { cwd: options.cwd ?? root, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const name = options.name ?? [command, ...args].join(' ');
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('close', (code, signal) => {
      exit = { code, signal };
      children.delete(child);
      for (const l of listeners) l();
      resolve();
    });
  });
  child.on('error', (error) => {
    err += `spawn error: ${error.message}\n`;
  });
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  child.stdin!.on('error', () => {}); // a process that has exited cannot read what is written
  const describe = () => `${name}\n--- stdout ---\n${out}--- stderr ---\n${err}`;
  const running: Running = {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    output: () => `--- stdout ---\n${out}--- stderr ---\n${err}`,
    lines: () => out.split('\n').filter((l) => l !== '').map((l) => l.replace(/\r$/, '')),
    waitForLine(pattern, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of running.lines()) {
            const m = pattern.exec(line);
            if (m) return done(() => resolve(m));
          }
          if (exit) done(() => reject(new Error(`exited (${exit!.code ?? exit!.signal}) before printing a line matching ${pattern}:\n${describe()}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no line matching ${pattern} within ${ms} ms:\n${describe()}`))), ms);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    send(line) {
      child.stdin!.write(`${line}\n`);
    },
    async finished(ms = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`did not exit within ${ms} ms (killed):\n${describe()}`));
        }, ms);
      });
      try {
        await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
      return { code: exit!.code, signal: exit!.signal, stdout: out, stderr: err };
    },
    kill(signal = 'SIGTERM') {
      child.kill(signal);
    },
  };
  return running;
}

/** Starts a Python script (a path, or `['-c', code]`) under one install, unbuffered. */
export function startPython(python: PythonInstall, script: string | string[], args: (string | number)[], env: NodeJS.ProcessEnv): Running {
  const scriptArgs = Array.isArray(script) ? script : [script];
  const name = `${python.label}: ${scriptArgs[0] === '-c' ? 'python -c …' : scriptArgs.map((s) => s.replace(`${root}/`, '')).join(' ')} ${args.join(' ')}`;
  return start(python.bin, ['-u', ...scriptArgs, ...args.map(String)], { env, name });
}

/** Runs a Python script to its end (bounded), returning its exit and output. */
export function runPython(python: PythonInstall, script: string | string[], args: (string | number)[], env: NodeJS.ProcessEnv, ms = 30_000): Promise<Finished> {
  return startPython(python, script, args, env).finished(ms);
}

/** Asserts a clean exit, showing the script's output (tracebacks) when it was not. */
export function assertExitedCleanly(result: Finished, what: string): void {
  assert.ok(result.code === 0, `${what} exited with ${result.code ?? result.signal}:\n--- stdout ---\n${result.stdout}--- stderr ---\n${result.stderr}`);
}

/** `node esbuild.js` once per test process (the CLI tests need `dist/cli.js`). */
let built = false;
export function buildDist(): void {
  if (built) return;
  const build = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, `node esbuild.js failed:\n${build.stdout}\n${build.stderr}`);
  built = true;
}

/** Our server as a user runs it: `syncmanager serve` from `dist/`, in a child process. */
export interface ServedCli extends AsyncDisposable {
  readonly address: string;
  readonly authkey: string;
  readonly process: Running;
  /** Ctrl-C, and wait for the exit. */
  stop(): Promise<Finished>;
}

let servedStores = 0;

/** Runs `node dist/cli.js serve --address 127.0.0.1:0 --authkey KEY --register … --no-config --json` until its ready line. */
export async function serveCli(authkey: string, registrations: string[], extraArgs: string[] = []): Promise<ServedCli> {
  buildDist();
  // With SYNCMANAGER_TEST_STORE (test/redis/), the objects live in that Redis, under a prefix of this server's own.
  const store = process.env[TEST_STORE_VARIABLE];
  const inStore = store ? ['--store', store, '--store-prefix', `test-py-${process.pid}-${servedStores++}`] : [];
  const args = [join(root, 'dist', 'cli.js'), 'serve', '--address', '127.0.0.1:0', '--authkey', authkey, ...registrations.flatMap((r) => ['--register', r]), '--no-config', '--json', ...inStore, ...extraArgs];
  const proc = start(process.execPath, args, { env: { ...process.env, [AUTHKEY_VARIABLE]: '', [ADDRESS_VARIABLE]: '' }, name: 'syncmanager serve' });
  const [line] = await proc.waitForLine(/^\{.*\}$/, 20_000);
  const ready = JSON.parse(line) as { address: string; authkey?: string };
  assert.match(ready.address, /^127\.0\.0\.1:\d+$/, `the ready line names a TCP address: ${line}`);
  const stop = async () => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.kill('SIGINT');
    return proc.finished(10_000);
  };
  return {
    address: ready.address,
    authkey,
    process: proc,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/** `host:port` → Python's `('host', port)` as source text. */
export function pythonAddressLiteral(address: string): string {
  const i = address.lastIndexOf(':');
  return `(${JSON.stringify(address.slice(0, i))}, ${Number(address.slice(i + 1))})`;
}

/** A script's path under `examples/python/`. */
export const example = (name: string) => join(examplesDir, name);
/** A script's path under `test/python/fixtures/`. */
export const fixture = (name: string) => join(fixturesDir, name);

/**
 * Python lines connecting an unmodified `BaseManager` client to the manager `pythonEnv` names, as
 * `m`, with `name` registered (and its `proxytype`, imported from `multiprocessing.managers`).
 * Python 2 takes the key as a str; Python 3 as bytes.
 */
export function managerClientLines(name: string, options: { proxytype?: string; python2?: boolean } = {}): string[] {
  const { proxytype, python2: py2 } = options;
  return [
    'import os',
    `from multiprocessing.managers import BaseManager${proxytype ? `, ${proxytype}` : ''}`,
    `BaseManager.register('${name}'${proxytype ? `, proxytype=${proxytype}` : ''})`,
    `host, port = os.environ['${ADDRESS_VARIABLE}'].rsplit(':', 1)`,
    `m = BaseManager(address=(host, int(port)), authkey=os.environ['${AUTHKEY_VARIABLE}']${py2 ? '' : '.encode()'})`,
    'm.connect()',
  ];
}
