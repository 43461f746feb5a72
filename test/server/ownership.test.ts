/**
 * Ownership: nothing stays stuck when a client dies. Real client processes (the built client
 * library, `dist/client.js`) take locks, permits and places in line, and are killed with SIGKILL
 * mid-call, over and over; after each kill the server must have given back everything the dead
 * client held, withdrawn everything it waited for, and lost no item.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect, type ManagerClient } from '../../src/client';
import type { Manager } from '../../src/server';
import { AUTHKEY, startManager } from '../helpers/manager';
import { until } from '../helpers/until';

const target = join(__dirname, '..', 'fixtures', 'kill-target.cjs');

interface Call {
  id: string;
  method: string;
  args?: unknown[];
  /** false: sent and left blocked in the manager. */
  await?: boolean;
}

/** A client process that has made its calls: the awaited ones returned, the others are blocked. */
class Target {
  private constructor(
    readonly child: ChildProcess,
    private readonly manager: Manager,
  ) {}

  static async start(manager: Manager, calls: Call[]): Promise<Target> {
    const child = spawn(process.execPath, [target, manager.address, AUTHKEY, JSON.stringify(calls)], { stdio: ['ignore', 'pipe', 'pipe'] });
    living.add(child);
    child.once('exit', () => living.delete(child));
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const lines = createInterface({ input: child.stdout! });
    const ready = new Promise<void>((resolve, reject) => {
      lines.once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(`kill target said ${line}`))));
      child.once('exit', (code) => reject(new Error(`kill target exited with ${code}: ${stderr}`)));
    });
    await ready;
    const t = new Target(child, manager);
    const blocked = calls.filter((c) => c.await === false).length;
    await until(`${blocked} blocked calls of process ${child.pid}`, () => (t.session()?.pendingCount ?? -1) >= blocked);
    return t;
  }

  /** The manager's session of this process. */
  session() {
    return [...this.manager.connectedSessions].find((s) => s.processId === this.child.pid);
  }

  /** SIGKILL, then wait until the manager has seen the connection close. */
  async kill(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
    await until(`the manager to see process ${this.child.pid} gone`, () => this.session() === undefined);
  }
}

/** Target processes not yet dead: a failing test must not leave them running (they would hold the run open). */
const living = new Set<ChildProcess>();

/** Proxies of the test's objects, kept reachable: a collected proxy would release its object. */
const keep: object[] = [];

async function create(client: ManagerClient, typeid: string, ...args: unknown[]): Promise<string> {
  const proxy = (await client.create(typeid, ...args)) as { id: string };
  keep.push(proxy);
  return proxy.id;
}

/** Rounds × scenarios ≥ 50 kills. */
const ROUNDS = 8;

test(`SIGKILL mid-call, ${ROUNDS} rounds of every scenario: no stuck lock, no lost item, no ghost waiter`, { timeout: 180_000 }, async (t) => {
  t.after(() => {
    for (const child of living) child.kill('SIGKILL');
  });
  await using manager = await startManager();
  const me = await connect({ address: manager.address, authkey: AUTHKEY, name: 'ownership-test' });
  let kills = 0;
  const scenarios: Record<string, () => Promise<void>> = {
    'a Lock holder dies: the waiter next in line gets it': async () => {
      const lock = await create(me, 'Lock');
      const holder = await Target.start(manager, [{ id: lock, method: 'acquire' }]);
      const mine = me.callById(lock, 'acquire');
      await holder.kill();
      assert.equal(await mine, true);
      await me.callById(lock, 'release');
    },
    'a blocked get dies: the next item is not lost': async () => {
      const q = await create(me, 'Queue');
      const getter = await Target.start(manager, [{ id: q, method: 'get', await: false }]);
      await getter.kill();
      await me.callById(q, 'put', ['precious']);
      assert.equal(await me.callById(q, 'get_nowait'), 'precious');
      assert.equal(await me.callById(q, 'qsize'), 0);
    },
    'a blocked put on a full queue dies: its item never goes in': async () => {
      const q = await create(me, 'Queue', 1);
      await me.callById(q, 'put', ['first']);
      const putter = await Target.start(manager, [{ id: q, method: 'put', args: ['ghost'], await: false }]);
      await putter.kill();
      assert.equal(await me.callById(q, 'get_nowait'), 'first');
      assert.equal(await me.callById(q, 'qsize'), 0, 'the dead putter added nothing');
    },
    'an RLock held three deep dies: it is free': async () => {
      const rlock = await create(me, 'RLock');
      const holder = await Target.start(manager, [1, 2, 3].map(() => ({ id: rlock, method: 'acquire' })));
      await holder.kill();
      assert.equal(await me.callById(rlock, 'acquire', [false]), true);
      await me.callById(rlock, 'release');
    },
    'a Semaphore holder of two permits dies: both come back': async () => {
      const sem = await create(me, 'Semaphore', 2);
      const holder = await Target.start(manager, [{ id: sem, method: 'acquire' }, { id: sem, method: 'acquire' }]);
      const mine = me.callById(sem, 'acquire');
      await holder.kill();
      assert.equal(await mine, true);
      assert.equal(await me.callById(sem, 'acquire', [false]), true, 'the second permit is back too');
      await me.callById(sem, 'release', [2]);
    },
    'a client waiting for a Lock dies: it takes nothing': async () => {
      const lock = await create(me, 'Lock');
      assert.equal(await me.callById(lock, 'acquire'), true);
      const waiter = await Target.start(manager, [{ id: lock, method: 'acquire', await: false }]);
      await waiter.kill();
      await me.callById(lock, 'release');
      assert.equal(await me.callById(lock, 'acquire', [false]), true, 'the dead waiter was not handed the lock');
      await me.callById(lock, 'release');
    },
    'a party waiting at a Barrier dies: the others are told at once': async () => {
      const barrier = await create(me, 'Barrier', 2);
      const party = await Target.start(manager, [{ id: barrier, method: 'wait', await: false }]);
      await party.kill();
      await assert.rejects(me.callById(barrier, 'wait', [1]), (e: Error & { type?: string }) => e.type === 'BrokenBarrierError');
    },
    'a Condition waiter dies: the lock is free and nobody waits': async () => {
      const cond = await create(me, 'Condition');
      const waiter = await Target.start(manager, [{ id: cond, method: 'acquire' }, { id: cond, method: 'wait', await: false }]);
      await waiter.kill();
      assert.equal(await me.callById(cond, 'acquire', [false]), true);
      const summary = manager.snapshot().objects.find((o) => o.id === cond)!;
      assert.equal(summary.details.waiting, 0);
      await me.callById(cond, 'release');
    },
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, scenario] of Object.entries(scenarios)) {
      await scenario().catch((error: Error) => {
        throw new Error(`round ${round}, ${name}: ${error.message}`, { cause: error });
      });
      kills++;
    }
  }
  assert.ok(kills >= 50, `${kills} kills`);
  // Nothing of the dead is left: no sessions but ours, nothing held, nothing pending.
  const sessions = manager.snapshot().sessions;
  assert.deepEqual(sessions.map((s) => s.clientInfo?.name), ['ownership-test']);
  assert.deepEqual(sessions[0].holds, []);
  assert.deepEqual(sessions[0].pending, []);
  await me.close();
});
