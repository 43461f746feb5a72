/**
 * The manager: BaseManager's server side. Register typeids, then serve them in this process
 * (`listen()`, `serveForever()`) or in a child process (`start()`, as BaseManager.start() does).
 * By default SyncManager's typeids (`Queue`, `dict`, `list`, `Lock`, `Event`, ...) are
 * registered too, so clients can make shared objects with no registration at all.
 */

import type { Socket } from 'node:net';
import { authkeyBytes, randomAuthkey } from '../common/authkey';
import { formatAddress, isLoopbackHost, parseAddress, type Address } from '../common/address';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../common/framing';
import { DEFAULT_LIVENESS_TIMEOUT_MS } from '../common/liveness';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../common/handshake';
import type { GroupManagerSummary, InspectGroup, InspectSnapshot } from '../common/protocol';
import { VERSION } from '../common/version';
import { builtinTypes } from './builtins';
import { startChildManager, type ChildManager } from './childProcess';
import { CallActivity } from './callActivity';
import { Inspector } from './inspector';
import { checkAuthkeyFor } from './authkeyPolicy';
import { BufferBudget } from './bufferBudget';
import { DEFAULT_MAX_MESSAGE_VALUES, DEFAULT_MAX_PENDING_BYTES, limitOptionsOf, type LimitOptions } from './limits';
import { Listener, type ConnectionHandler } from './listener';
import type { ServerTlsOptions } from './tlsWrap';
import { PythonSession, type PythonHost } from './python/pythonSession';
import { globalIdOf, ObjectTable } from './objectTable';
import { Registry, type RegisterOptions } from './registry';
import { Session, type JsonRpcHost } from './jsonrpc/jsonRpcSession';
import { ResumeTokens } from './jsonrpc/resumeTokens';
import { ObjectService, type ObjectServiceHost } from './calls/objectService';
import { memoryStore, storeFor, type ObjectStore, type StoreTlsOptions } from './store';
import type { ConnectedSession } from './calls/sessionCore';
import { StateKeeper } from './state/stateKeeper';

/** A built-in type's name, as SyncManager's typeids spell it. */
export type BuiltinTypeName = keyof typeof builtinTypes;

/** Options of {@link Manager}. */
export interface ManagerOptions extends LimitOptions {
  /** `host:port`, a socket path, `{ host, port }` or `[host, port]`. Default `127.0.0.1:0` (any free port). */
  address?: string | { host: string; port: number } | readonly [string, number];
  /** The shared secret clients must prove. Default: a random key (read it back from `authkey`). */
  authkey?: string | Uint8Array;
  /** Register SyncManager's typeids (Queue, JoinableQueue, dict, list, set, Namespace, Value, Array, Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier, Iterator, plus LifoQueue and PriorityQueue). Default true. */
  builtins?: boolean;
  /** Milliseconds a connection has to complete the handshake. Default 10 000. */
  handshakeTimeoutMs?: number;
  /** Largest message body accepted, in bytes. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Most connections at once. Default unlimited. */
  maxConnections?: number;
  /**
   * Milliseconds of silence after which a session that asked for liveness (capability ping) is
   * dropped, as on an abrupt close. Default 30 000.
   */
  livenessTimeoutMs?: number;
  /** Whether a client may stop the manager (`shutdown { server: true }`), as Python's clients can. Default true. */
  allowRemoteShutdown?: boolean;
  /**
   * Whether clients that ask may use inspection (`inspect/*`: summaries, peeks, change
   * notifications). Inspection shows the public fields of custom objects, beyond `exposed`, to any
   * authenticated client that asks. Default true.
   */
  inspection?: boolean;
  /**
   * Serve TLS on the port (PEM certificate and key; with `ca`, clients must present a certificate
   * it signed). The authkey handshake runs inside TLS. Python's own clients cannot speak TLS:
   * serve them from a second, plaintext manager on a loopback address.
   */
  tls?: ServerTlsOptions;
  /**
   * With `tls`: also listen, in plaintext, on this loopback address (`127.0.0.1:50001`), for
   * Python's own clients on this machine, which cannot speak TLS. They share every object with the
   * TLS port, and the tokens Python clients receive name this address.
   */
  plaintextAddress?: string;
  /**
   * Keep the contents of the shared built-in objects (`register(typeid, { shared })`) in this file
   * across a clean restart: restored before listening, saved on a clean shutdown (shutdown(), a
   * client's remote shutdown). A file that is not a complete state file of this version makes
   * `listen()` fail, naming it. Queues, dict, list, set, Namespace, Value, Array and Event are kept;
   * locks, semaphores, conditions and barriers start released. Default: nothing is kept.
   */
  stateFile?: string;
  /**
   * Where the built-in objects keep their state: `memory` (the default) or
   * `redis://HOST:PORT/DB` (`rediss://` for Redis over TLS), where every manager on the same Redis and prefix serves the same
   * objects (README, "Scaling out", says which types live there so far). The manager refuses to
   * start when that Redis cannot be reached, or its prefix holds another version's data.
   */
  store?: string;
  /** The prefix of every Redis key the store writes. Default `syncmanager`. */
  storePrefix?: string;
  /**
   * With a `rediss://` store: the CA that signed Redis's certificate (trusted instead of Node's
   * CAs), and a client certificate and key for a Redis that requires one. PEM text or bytes.
   */
  storeTls?: StoreTlsOptions;
  /**
   * With a Redis store: how long (ms) what this manager's sessions hold (locks, permits,
   * deliveries in flight) outlives the manager if it dies, before another manager of the group
   * gives it back. Default 5000.
   */
  storeLeaseMs?: number;
  /** Receives one line per notable event (connections, refusals, errors). Default: silent. */
  log?: (message: string) => void;
  /** Receives warnings: values a state file could not keep, and the like. Default: `log`. */
  warn?: (message: string) => void;
}

/** Registration options, plus the one form that can cross into a child process: a shared built-in object. */
export interface ManagerRegisterOptions extends RegisterOptions {
  /**
   * Serve one shared object of this built-in type under the typeid (the seed's
   * `callable=lambda: queue` pattern, with no closure, so `start()` can use it too).
   */
  shared?: BuiltinTypeName;
  /** Constructor arguments for `shared`. */
  args?: readonly unknown[];
  /** Constructor keyword arguments for `shared`. */
  kwargs?: Readonly<Record<string, unknown>>;
}

/** A registration that a child process can rebuild: `typeid=Type(args)` on the command line. */
export interface SharedSpec {
  typeid: string;
  type: BuiltinTypeName;
  args: readonly unknown[];
  kwargs: Readonly<Record<string, unknown>>;
}


/** The manager server. */
export class Manager {
  /** The typeids this manager serves. */
  readonly registry = new Registry();
  /** The live shared objects. */
  readonly table = new ObjectTable();
  /** Change tracking and summaries for inspection tools. */
  readonly inspector = new Inspector(this.table);
  /** The calls inspection watches (Activity). */
  readonly activity = new CallActivity(this.table);
  /** Where the built-in objects keep their state (see `store` in the options). */
  readonly store: ObjectStore;
  private readonly startedAt = Date.now();
  private readonly options: ManagerOptions;
  private readonly buffers: BufferBudget;
  private readonly key: Buffer;
  private readonly requestedAddress: Address;
  private readonly sessions = new Set<ConnectedSession>();
  private readonly sharedSpecs: SharedSpec[] = [];
  /** The one object each `shared` registration serves, by typeid: what a state file keeps. */
  private readonly sharedObjects = new Map<string, object>();
  private readonly keeper: StateKeeper | undefined;
  private readonly closureTypeids: string[] = [];
  private configFile: string | undefined;
  private listener: Listener | undefined;
  private plainListener: Listener | undefined;
  private child: ChildManager | undefined;
  private state: 'new' | 'listening' | 'started' | 'stopping' | 'stopped' = 'new';
  private stopped: Promise<void> | undefined;
  private resolveStopped: ((failure?: unknown) => void) | undefined;

  constructor(options: ManagerOptions = {}) {
    this.options = options;
    this.requestedAddress = parseAddress(options.address ?? '127.0.0.1:0');
    this.key = authkeyBytes(options.authkey ?? randomAuthkey());
    this.buffers = new BufferBudget(options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES);
    const log = options.log ?? (() => {});
    if (options.stateFile !== undefined) this.keeper = new StateKeeper(options.stateFile, options.warn ?? log, log, options.opaquePickles !== false);
    this.store = storeFor(options.store, options.storePrefix, options.log, options.storeLeaseMs, options.storeTls);
    if (this.keeper && this.store !== memoryStore) throw new Error('--state keeps the objects of the in-memory store; a Redis store keeps them in Redis: give one or the other (the option stateFile, or store)');
    const group = this.store.group;
    if (group) {
      // An object of the group made through another manager is served as registered here.
      this.table.registrationFor = (obj) => {
        const typeid = group.typeidOf(obj);
        return typeid === undefined ? undefined : this.registry.get(typeid);
      };
    }
    this.table.onChange = (entry, change) => {
      // The group counts which managers refer to its objects: this one does while they are in its table.
      if (group && globalIdOf(entry.obj) !== undefined) group.referenced(entry.obj, change === 'added');
      if (!this.inspector.active) return;
      if (change === 'added') this.inspector.added(entry.id);
      else this.inspector.removed(entry.id);
    };
    const sessions = this.store.sessions;
    // A resumable session's references are counted in the group too, so that they outlive this manager (SPEC 20.4.1).
    if (sessions) {
      this.table.onHeld = (entry, holder, count) => {
        if (globalIdOf(entry.obj) !== undefined) sessions.referencesChanged(holder, entry.obj, count);
      };
    }
    if (options.builtins !== false) {
      for (const [typeid, builtin] of Object.entries(this.store.types)) {
        this.registry.add({
          typeid,
          create: builtin.create,
          exposed: null,
          methodToTypeid: { ...builtin.type.methodToTypeid },
          // As SyncManager registers Iterator: no creation method, its objects come from iteration.
          createMethod: builtin.create !== undefined,
          builtin: builtin.type.builtin,
        });
      }
    }
  }

  /** The authkey clients must prove (as text when it is text). */
  get authkey(): string {
    return this.key.toString('utf8');
  }

  /** The authkey's bytes. */
  get authkeyBytes(): Buffer {
    return Buffer.from(this.key);
  }

  /** Bytes of incomplete messages the connections hold now (in-process managers; see `maxPendingBytes`). */
  get bufferedBytes(): number {
    return this.buffers.bytes;
  }

  /** The address clients connect to: the bound one once listening, else the requested one. */
  get address(): string {
    if (this.child) return this.child.address;
    return formatAddress(this.listener?.address ?? this.requestedAddress);
  }

  /** The plaintext loopback address beside the TLS one, once listening (see `plaintextAddress` in the options). */
  get plaintextAddress(): string | undefined {
    return this.plainListener?.address ? formatAddress(this.plainListener.address) : undefined;
  }

  /** The plaintext address asked for, checked: only with TLS, and only on loopback. */
  private plaintextRequest(): Address | undefined {
    if (this.options.plaintextAddress === undefined) return undefined;
    if (!this.options.tls) throw new Error('plaintextAddress is for serving TLS and plaintext side by side: without tls, the address already speaks plaintext');
    const address = parseAddress(this.options.plaintextAddress);
    if (address.kind === 'tcp' && !isLoopbackHost(address.host)) {
      throw new Error(`plaintextAddress ${this.options.plaintextAddress} must be a loopback address (127.0.0.1, ::1) or a socket path: plaintext is for clients on this machine`);
    }
    return address;
  }

  /** Connected sessions (in-process managers only): JSON-RPC clients, and Python clients' method-call channels. */
  get connectedSessions(): ReadonlySet<ConnectedSession> {
    return this.sessions;
  }

  /**
   * Registers a typeid (BaseManager.register). Chainable.
   * @example manager.register('get_task_queue', { shared: 'Queue' })
   * @example manager.register('get_task_queue', { callable: () => taskQueue })
   * @example manager.register('Counter', { callable: Counter, exposed: ['increment', 'value'] })
   */
  register(typeid: string, options: ManagerRegisterOptions = {}): this {
    const { shared, args = [], kwargs = {}, ...rest } = options;
    if (shared !== undefined) {
      const builtin = builtinTypes[shared];
      if (!builtin) throw new TypeError(`register('${typeid}'): unknown built-in type ${JSON.stringify(shared)} (known: ${Object.keys(builtinTypes).join(', ')})`);
      if (rest.callable) throw new TypeError(`register('${typeid}'): give either shared or callable, not both`);
      if (!builtin.create) throw new TypeError(`register('${typeid}'): ${shared} objects come only from iteration; they cannot be shared as such`);
      const obj = this.store.sharedObject(typeid, shared, args, kwargs);
      const registration = this.registry.register(typeid, { ...rest, callable: () => obj });
      // Describe it as the built-in type it serves, so tools show "Queue", not "custom".
      const described = this.registry.add({ ...registration, builtin: builtin.type.builtin, shared: true });
      // It lives as long as the manager: inspection shows it, and what it holds, whoever holds it.
      this.table.makeResident(obj, described);
      this.sharedSpecs.push({ typeid, type: shared, args: [...args], kwargs: { ...kwargs } });
      this.sharedObjects.set(typeid, obj);
      // Registered while serving: what the state file saved under this typeid comes back now.
      if (this.state === 'listening') this.keeper?.adopt(typeid, obj);
    } else {
      this.registry.register(typeid, rest);
      this.sharedObjects.delete(typeid);
      if (rest.callable) this.closureTypeids.push(typeid);
    }
    return this;
  }

  /** Loads a config module's registrations into this manager (see `loadConfig`). */
  async useConfig(file: string): Promise<this> {
    const { applyConfig } = await import('./config');
    const before = this.closureTypeids.length;
    await applyConfig(this, file);
    // A child started by start() loads the same file itself, so its callables need not cross over.
    this.closureTypeids.length = before;
    this.configFile = file;
    return this;
  }

  /** Binds and starts serving in this process; resolves with the bound address. */
  async listen(): Promise<string> {
    if (this.state !== 'new') throw new Error(`the manager is already ${this.state}`);
    checkAuthkeyFor(this.requestedAddress, this.key);
    const plain = this.plaintextRequest();
    // Before anything listens: a state file that cannot be restored stops the start, changing nothing.
    this.keeper?.restore(this.sharedObjects);
    this.state = 'listening';
    const log = this.options.log ?? (() => {});
    try {
      await this.store.open(() => {
        log('the store gave back what this manager\'s clients held (it was cut off from the store longer than its lease): their sessions end, and they reconnect');
        for (const session of this.sessions) session.close();
      });
    } catch (error) {
      this.state = 'stopped';
      throw error;
    }
    if (this.store !== memoryStore) log(`objects kept in the store at ${this.store.location}`);
    const host: PythonHost & JsonRpcHost & Pick<ObjectServiceHost, 'group'> = {
      resumeTokens: new ResumeTokens<Session>(),
      registry: this.registry,
      table: this.table,
      serverVersion: VERSION,
      maxMessageBytes: this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      maxMessageValues: this.options.maxMessageValues ?? DEFAULT_MAX_MESSAGE_VALUES,
      opaquePickles: this.options.opaquePickles !== false,
      buffers: this.buffers,
      livenessTimeoutMs: this.options.livenessTimeoutMs ?? DEFAULT_LIVENESS_TIMEOUT_MS,
      allowRemoteShutdown: this.options.allowRemoteShutdown ?? true,
      // A failure to save the state is reported by serveForever (and the log), not here.
      shutdownServer: () => void this.shutdown().catch(() => {}),
      inspector: this.inspector,
      activity: this.activity,
      group: this.store.group,
      inspectionAllowed: this.options.inspection !== false,
      snapshot: () => this.snapshot(),
      groupView: () => this.groupView(),
      groupSessions: this.store.sessions,
      sessionClosed: (session) => {
        this.sessions.delete(session);
        // A resumable session of a group gives back what it still holds there (one another manager took over included).
        this.store.sessions?.ended(session.id);
        this.store.group?.selfChanged();
        if (this.inspector.active) this.inspector.sessionsChanged();
        log(`session ${session.id} (${JSON.stringify(session.clientInfo?.name ?? 'unnamed')}) from ${session.remoteAddress} closed`);
      },
      log,
      pythonAddress: () => {
        // Python's own clients reach us only in plaintext: their proxies must connect there.
        const bound = (this.plainListener ?? this.listener!).address!;
        return bound.kind === 'tcp' ? [bound.host, bound.port] : bound.path;
      },
      sessionOpened: (session) => {
        this.sessions.add(session);
        this.store.group?.selfChanged();
        if (this.inspector.active) this.inspector.sessionsChanged();
        log(`python session ${session.id} (${JSON.stringify(session.clientInfo?.name)}) from ${session.remoteAddress} opened`);
      },
    };
    const service = new ObjectService(host);
    const listenerOptions = {
      authkey: this.key,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      maxConnections: this.options.maxConnections,
      maxHandshaking: this.options.maxHandshaking,
      idleTimeoutMs: this.options.idleTimeoutMs,
    };
    const handler: ConnectionHandler = {
      onJsonRpc: (socket: Socket, head: Buffer, remote: string) => {
        const session = new Session(socket, host, service, remote);
        this.sessions.add(session);
        this.store.group?.selfChanged();
        if (this.inspector.active) this.inspector.sessionsChanged();
        log(`session ${session.id} from ${remote} opened`);
        session.onData(head);
        return session;
      },
      onPickle: (socket: Socket, head: Buffer, remote: string) => {
        const session = new PythonSession(socket, host, service, remote);
        session.onData(head);
        return session;
      },
      log,
    };
    this.listener = new Listener({ ...listenerOptions, tls: this.options.tls }, handler);
    if (plain) this.plainListener = new Listener(listenerOptions, handler);
    this.stopped = new Promise((resolve, reject) => (this.resolveStopped = (failure) => (failure === undefined ? resolve() : reject(failure))));
    try {
      await this.listener.listen(this.requestedAddress);
      if (plain) await this.plainListener!.listen(plain);
    } catch (error) {
      await this.listener.close(0).catch(() => {});
      await this.store.close();
      this.state = 'stopped';
      this.resolveStopped?.();
      throw error;
    }
    // The other managers of the group show this one, at the address it now has.
    this.store.group?.publishSelf(() => this.describeSelf());
    log(`listening on ${this.address}${plain ? ` (TLS), and in plaintext on ${this.plaintextAddress}` : ''}`);
    return this.address;
  }

  /** Listens (if not yet) and resolves when the manager has shut down; rejects if its state file could not be saved then. */
  async serveForever(): Promise<void> {
    if (this.state === 'new') await this.listen();
    await this.stopped;
  }

  /**
   * Runs the manager in a child process, as BaseManager.start() does; resolves with its address.
   * Only registrations that can cross a process boundary are allowed: `shared` built-ins and those
   * of a config module (`useConfig`). A closure cannot be sent to another process.
   */
  async start(): Promise<string> {
    if (this.state !== 'new') throw new Error(`the manager is already ${this.state}`);
    if (this.closureTypeids.length) {
      throw new Error(
        `start() runs the manager in a child process, which cannot receive the callables registered for ${this.closureTypeids.map((t) => `'${t}'`).join(', ')}: ` +
          'register them in a config module (useConfig) or with { shared: TypeName }, or serve in this process with listen()',
      );
    }
    this.state = 'started';
    this.child = await startChildManager({
      address: formatAddress(this.requestedAddress),
      authkey: this.key,
      shared: this.sharedSpecs,
      config: this.configFile,
      builtins: this.options.builtins !== false,
      inspection: this.options.inspection !== false,
      allowRemoteShutdown: this.options.allowRemoteShutdown ?? true,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      maxMessageBytes: this.options.maxMessageBytes,
      maxConnections: this.options.maxConnections,
      limits: limitOptionsOf(this.options),
      tls: this.options.tls,
      plaintextAddress: this.options.plaintextAddress,
      livenessTimeoutMs: this.options.livenessTimeoutMs,
      stateFile: this.options.stateFile,
      store: this.options.store,
      storePrefix: this.options.storePrefix,
      storeLeaseMs: this.options.storeLeaseMs,
      storeTls: this.options.storeTls,
      log: this.options.log,
    });
    this.stopped = this.child.exited;
    return this.child.address;
  }

  /** Stops serving: blocked calls are answered ShuttingDown and every connection is closed. Safe to call twice. */
  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.state === 'stopping') return this.stopped;
    if (this.child) {
      this.state = 'stopping';
      await this.child.stop();
      this.state = 'stopped';
      return;
    }
    const wasListening = this.state === 'listening';
    this.state = 'stopping';
    this.inspector.dispose();
    this.activity.dispose();
    let saveError: unknown;
    if (wasListening) {
      for (const session of this.sessions) session.close();
      await Promise.all([this.listener?.close(), this.plainListener?.close()]);
      // Every session is closed, so items taken by calls whose answers could not be sent are back.
      try {
        this.keeper?.save(this.sharedObjects);
      } catch (error) {
        saveError = error;
      }
      await this.store.close();
    }
    this.state = 'stopped';
    this.resolveStopped?.(saveError);
    if (saveError) throw saveError;
  }

  /** Every object and session, summarised, as inspection tools show them. */
  snapshot(): InspectSnapshot {
    return {
      server: { name: 'syncmanager', version: VERSION, processId: process.pid, address: this.address, startedAt: this.startedAt },
      typeids: this.registry.describe(),
      objects: this.table.allInspectable().map((entry) => this.inspector.summarize(entry)),
      sessions: [...this.sessions].map((session) => session.summary()),
    };
  }

  /** This manager as the group shows it: its address and sessions. */
  private describeSelf(): Omit<GroupManagerSummary, 'managerId' | 'self' | 'publishedAt'> {
    return { address: this.address, version: VERSION, processId: process.pid, startedAt: this.startedAt, sessions: [...this.sessions].map((session) => session.summary()) };
  }

  /**
   * Every manager of the group this one belongs to, with its sessions, and the objects they share
   * (`inspect/group`); without a shared store, this manager alone. This manager's own entry is
   * described now, the others as they last published themselves.
   */
  async groupView(): Promise<InspectGroup> {
    const group = this.store.group;
    const self: GroupManagerSummary = { ...this.describeSelf(), managerId: group?.managerId ?? `${process.pid}@${this.address}`, self: true, publishedAt: Date.now() };
    if (!group) return { managers: [self], objects: [] };
    const view = await group.view();
    return { ...view, managers: [self, ...view.managers.filter((m) => !m.self)] };
  }

  /** `await using manager = ...` shuts it down at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}
