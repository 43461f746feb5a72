/**
 * What the CPython-parity suites share. Each suite mirrors, behaviour by behaviour, what CPython's
 * `Lib/test/_test_multiprocessing.py` checks for managed objects, driven only through real
 * sockets: an in-process manager, and clients made with `connect()` that stand for CPython's
 * processes and threads. Each party is a connection of its own, so each is its own lock owner,
 * as each CPython thread or process is.
 *
 * A proxy reaches another client the way a pickled proxy reaches a child process: through the
 * manager (a shared dict, `get_board`), coming back as that client's own proxy of the same object.
 *
 * Nothing here sleeps to synchronise. What a test cannot be told directly (a party is parked in
 * a wait, a barrier broke) it reads from the manager's own state, polling with a bound.
 */

import assert from 'node:assert/strict';
import { connect, RemoteError, type BaseProxy, type Connected, type DictProxy } from '../../../src/client';
import type { Manager } from '../../../src/server';
import { AUTHKEY, startManager } from '../../helpers/manager';
import { until } from '../../helpers/until';

/** A timeout that must expire (CPython's TIMEOUT1..3, kept short). */
export const SHORT = 0.05;
/** A timeout that must never be reached: a call that waited it out would show in the time taken. */
export const LONG = 10;
/** Per-test bound in milliseconds, so that a hang fails a test rather than the run. */
export const TEST_TIMEOUT = 20_000;
/** How early a timer may seem to fire, measured from the client (millisecond clock truncation). */
const CLOCK_RES = 0.005;

/** The typeids every parity manager serves beyond SyncManager's. */
type Board = { get_board: DictProxy<unknown> };
/** A connected client: CPython's process or thread. */
export type Client = Connected<Board>;

/** A manager, its main client, and more clients on demand; disposing closes them all. */
export interface Parity extends AsyncDisposable {
  readonly manager: Manager;
  /** The test's own client: CPython's main process. */
  readonly main: Client;
  /** Connects `n` more clients, each a connection of its own. */
  connect(n: number): Promise<Client[]>;
  /**
   * The same objects as proxies of `client` (the record's values are proxies, possibly nested in
   * plain values): how a child process receives the proxies passed as its arguments.
   */
  share<T extends Record<string, unknown>>(client: Client, proxies: T): Promise<T>;
}

/**
 * Starts a manager on 127.0.0.1 port 0, with `setup` run before it listens (server-side
 * registrations), and connects the main client.
 */
export async function parity(setup?: (m: Manager) => void): Promise<Parity> {
  const manager = await startManager({}, (m) => {
    m.register('get_board', { shared: 'dict' });
    setup?.(m);
  });
  const clients: Client[] = [];
  const boards = new Map<Client, DictProxy<unknown>>();
  let slots = 0;
  const open = async (name: string): Promise<Client> => {
    const client = await connect<Board>({ address: manager.address, authkey: AUTHKEY, name });
    clients.push(client);
    return client;
  };
  const boardOf = async (client: Client): Promise<DictProxy<unknown>> => {
    let board = boards.get(client);
    if (!board) boards.set(client, (board = await client.get_board()));
    return board;
  };
  try {
    const main = await open('cpython-parity-main');
    return {
      manager,
      main,
      async connect(n) {
        const out: Client[] = [];
        for (let i = 0; i < n; i++) out.push(await open(`cpython-parity-party-${clients.length}`));
        return out;
      },
      async share<T extends Record<string, unknown>>(client: Client, proxies: T): Promise<T> {
        if (client === main) return proxies;
        const slot = `slot-${slots++}`;
        await (await boardOf(main)).set(slot, proxies);
        return (await (await boardOf(client)).getItem(slot)) as T;
      },
      async [Symbol.asyncDispose]() {
        for (const client of clients) await client.close();
        await manager.shutdown();
      },
    };
  } catch (error) {
    for (const client of clients) await client.close();
    await manager.shutdown();
    throw error;
  }
}

/** An object's type-specific state as the manager reports it (a semaphore's value, a condition's waiters...). */
export function details(manager: Manager, proxy: BaseProxy): Record<string, unknown> {
  const summary = manager.snapshot().objects.find((o) => o.id === proxy.id);
  assert.ok(summary, `object ${proxy.id} (${proxy.typeid}) is live in the manager`);
  return summary.details;
}

/** How many calls to `method` on the proxy's object are parked in the manager, over every client. */
export function parked(manager: Manager, proxy: BaseProxy, method: string): number {
  let n = 0;
  for (const session of manager.snapshot().sessions) for (const call of session.pending) if (call.objectId === proxy.id && call.method === method) n++;
  return n;
}

/** Waits (bounded) until exactly `count` calls to `method` on the object are parked. */
export async function untilParked(manager: Manager, proxy: BaseProxy, method: string, count: number): Promise<void> {
  await until(`${count} ${method}() call(s) parked on ${proxy.typeid} #${proxy.id}`, () => parked(manager, proxy, method) === count);
}

/**
 * Waits until an asynchronous check holds (a remote read), checking again after each answer,
 * bounded in time and in checks.
 */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let checks = 0; !(await check()); checks++) {
    if (Date.now() > deadline || checks > 10_000) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Measures the time from now, in seconds, on the monotonic clock (CPython's TimingWrapper). */
export function stopwatch(): { readonly seconds: number } {
  const start = performance.now();
  return {
    get seconds() {
      return (performance.now() - start) / 1000;
    },
  };
}

/** The call waited out its timeout (allowing for the clock's resolution). */
export function assertWaited(watch: { readonly seconds: number }, timeout: number, what: string): void {
  const seconds = watch.seconds;
  assert.ok(seconds >= timeout - CLOCK_RES, `${what}: returned after ${seconds.toFixed(3)} s, before its ${timeout} s timeout`);
}

/** The call did not wait out a timeout of `timeout` (it returned in well under half of it). */
export function assertPrompt(watch: { readonly seconds: number }, timeout: number, what: string): void {
  const seconds = watch.seconds;
  assert.ok(seconds < timeout / 2, `${what}: took ${seconds.toFixed(3)} s, as if it waited for its ${timeout} s timeout`);
}

/** For `assert.rejects`: a remote exception of Python type `type` (for those with no class of their own, TypeError...). */
export function remote(type: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof RemoteError, `expected a remote ${type}, got ${String(error)}`);
    assert.equal(error.type, type);
    return true;
  };
}

/** Tracks whether a promise has settled, without swallowing its outcome. */
export function watch<T>(promise: Promise<T>): { readonly promise: Promise<T>; settled(): boolean } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { promise, settled: () => settled };
}
