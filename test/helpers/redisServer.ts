/**
 * A real Redis for the tests: `redis-server` on a free 127.0.0.1 port, its files in a temporary
 * folder, no snapshots and no append-only file unless asked for, stopped by PID, and restarted on
 * the same port and folder (what it wrote to disk is read back, as after a crash). Redis cannot pick a free port itself (`--port 0` turns
 * TCP off), so a free one is found by binding port 0 and closing it, and the start is tried again
 * (a bounded number of times) if another process took that port meanwhile.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Connected } from '../../src/client';
import type { Manager } from '../../src/server';
import { AUTHKEY, TEST_STORE_VARIABLE } from './manager';
import { until } from './until';

const REDIS_SERVER = 'redis-server';
/** Set to 1, skips the Redis store's tests (scripts/run-tests.mjs, plain JavaScript, spells it too). */
const SKIP_REDIS_VARIABLE = 'SYNCMANAGER_SKIP_REDIS';
const START_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 10_000;

/**
 * Why the Redis tests are skipped here, or undefined when they run. They are skipped only when asked
 * (SYNCMANAGER_SKIP_REDIS=1); a missing redis-server is otherwise an error, since `npm test` installs
 * it first (scripts/redis-test/setup.sh).
 * @throws Error when redis-server is missing and the tests were not asked to be skipped.
 */
export function redisMissing(): string | undefined {
  if (process.env[SKIP_REDIS_VARIABLE] === '1') return `${SKIP_REDIS_VARIABLE}=1 skips the Redis store's tests`;
  const probe = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
  if (!probe.error && probe.status === 0) return undefined;
  throw new Error(`redis-server is not installed (${probe.error?.message ?? probe.stderr}); scripts/redis-test/setup.sh installs it (Debian: apt-get install redis-server), or ${SKIP_REDIS_VARIABLE}=1 skips the Redis store's tests`);
}

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT/0` (`rediss://` when started with TLS) */
  readonly url: string;
  readonly pid: number;
  /** Stops it (SIGTERM, then SIGKILL if it lingers) and removes its folder unless `keepDir`. */
  stop(options?: { keepDir?: boolean }): Promise<void>;
  /** Kills it at once (SIGKILL), leaving its folder. */
  kill(): Promise<void>;
  /** Its folder (for restarting with the same files). */
  readonly dir: string;
  /**
   * Starts redis-server again on the same port and folder, with the same `extra` arguments, once
   * this one has exited (after `kill()`, or `stop({ keepDir: true })`): it loads what this one
   * wrote to disk. Stopping the new one removes the folder, and so does a restart that fails (when
   * the folder is the helper's own, not `options.dir`).
   */
  restart(): Promise<RedisServer>;
}

/** A port free at the moment of asking. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** How to start a redis-server. */
export interface RedisOptions {
  /** More arguments, after (so overriding) the defaults: `['--appendonly', 'yes', '--appendfsync', 'always']`. */
  extra?: string[];
  /** This port instead of a free one (one attempt only). */
  port?: number;
  /** This folder instead of a new temporary one (what a Redis wrote there is loaded). */
  dir?: string;
  /**
   * Serve TLS only, on the port (plaintext off), with this certificate and key; `caFile` is the CA
   * clients' certificates must be signed by, required when `authClients` (Redis's own default).
   */
  tls?: { certFile: string; keyFile: string; caFile: string; authClients: boolean };
}

/** Starts redis-server with `extra` arguments (`--appendonly yes`...) on a free port, or `port`. */
export function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  return launch(options, options.dir === undefined);
}

/**
 * Starts redis-server; `ownsDir` says the folder is this helper's (made by it, not given by the
 * caller), so a start that fails, a restart's included, removes it: nothing else would.
 */
async function launch(options: RedisOptions, ownsDir: boolean): Promise<RedisServer> {
  // Not tempFolder's: the folder outlives this server (restart() reuses it), so stop() or a failed start removes it.
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'syncmanager-redis-'));
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < (options.port ? 1 : START_ATTEMPTS); attempt++) {
    const port = options.port ?? (await freePort());
    const { tls } = options;
    const listen = tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', tls.authClients ? 'yes' : 'no']
      : ['--port', String(port)];
    const child = spawn(REDIS_SERVER, [...listen, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...(options.extra ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('error', (error) => {
        output += error.message;
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready) {
      child.stdout!.resume();
      child.stderr!.resume();
      const kill = async (signal: NodeJS.Signals) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited(child);
      };
      return {
        port,
        url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}/0`,
        pid: child.pid!,
        dir,
        async stop({ keepDir = false } = {}) {
          try {
            const gone = exited(child);
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
            await gone;
            clearTimeout(timer);
          } finally {
            if (!keepDir) rmSync(dir, { recursive: true, force: true });
          }
        },
        kill: () => kill('SIGKILL'),
        async restart() {
          if (child.exitCode === null && child.signalCode === null) throw new Error(`redis-server ${child.pid} is still running: kill or stop it before restarting`);
          return launch({ ...options, port, dir }, ownsDir);
        },
      };
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
    lastError = new Error(`redis-server on port ${port} did not start: ${output.trim().split('\n').slice(-3).join(' | ')}`);
  }
  if (ownsDir) rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('redis-server did not start');
}

/**
 * Runs a shared suite (imported by the calling file) against managers whose objects live in a
 * real Redis: starts redis-server before the first test, points startManager at it
 * (SYNCMANAGER_TEST_STORE), and at the end checks that the store's scripts ran there at least
 * `minScripts` times, so that the run cannot pass in memory unnoticed.
 */
export function runSuiteInRedis(minScripts: number): void {
  let redis: RedisServer | undefined;
  before(async () => {
    const missing = redisMissing();
    if (missing) throw new Error(missing);
    redis = await startRedis();
    process.env[TEST_STORE_VARIABLE] = redis.url;
  });
  after(async () => {
    if (!redis) return;
    try {
      const { Redis } = await import('ioredis');
      const raw = new Redis(redis.url);
      const stats = await raw.info('commandstats');
      raw.disconnect();
      const scripts = Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0) + Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      assert.ok(scripts >= minScripts, `the store's scripts ran in Redis (${scripts} script calls)`);
    } finally {
      await redis.stop();
    }
  });
}

/**
 * One redis-server for the tests of the calling file: started before the first, stopped after the
 * last (nothing when redis-server is missing: `skip` says why, for the tests' skip option).
 * `prefix()` gives each test a key prefix of its own, so tests never see each other's data.
 */
export function redisForTests(tag: string): { readonly skip: string | undefined; readonly url: string; prefix(): string } {
  const skip = redisMissing();
  let redis: RedisServer | undefined;
  let prefixes = 0;
  before(async () => {
    if (!skip) redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  return {
    skip,
    get url(): string {
      if (!redis) throw new Error('redis-server is not running');
      return redis.url;
    },
    prefix: () => `${tag}${process.pid}-${prefixes++}`,
  };
}

/** Two managers on one Redis and prefix, with a client of each: the set-up of the tests that cross managers. */
export interface TwoManagers<T extends object> extends AsyncDisposable {
  a: Manager;
  b: Manager;
  onA: Connected<T>;
  onB: Connected<T>;
}

/**
 * Starts two managers with `start(prefix)` (the same Redis and prefix) and connects a client to each;
 * disposing closes the clients, then the managers.
 */
export async function twoManagers<T extends object>(start: (prefix: string) => Promise<Manager>, prefix: string): Promise<TwoManagers<T>> {
  const a = await start(prefix);
  const b = await start(prefix);
  const onA = await connect<T>({ address: a.address, authkey: AUTHKEY });
  const onB = await connect<T>({ address: b.address, authkey: AUTHKEY });
  return {
    a,
    b,
    onA,
    onB,
    async [Symbol.asyncDispose]() {
      await Promise.all([onA.close(), onB.close()]);
      await Promise.all([a[Symbol.asyncDispose](), b[Symbol.asyncDispose]()]);
    },
  };
}

/** Resolves once `count` calls of `method` wait on manager `m`. */
export function waitingOn(m: Manager, method: string, count = 1): Promise<void> {
  return until(`${count} ${method}() waiting on the manager`, () => [...m.connectedSessions].flatMap((s) => s.summary().pending).filter((p) => p.method === method).length >= count);
}
