/**
 * The manager's lifecycle as the extension sees it: start one in a child process, or attach to one
 * already running; keep an inspection connection to it; stop, restart, detach. Every state change
 * and every change the manager reports is an event the views, the status bar and the terminal
 * environment listen to.
 */

import { rmSync } from 'node:fs';
import * as vscode from 'vscode';
import { connect, type ClientTlsOptions, type Connected, type InspectionSubscription } from '../client';
import { ADDRESS_VARIABLE, AUTHKEY_VARIABLE } from '../common/environmentVariables';
import type { InspectChangedParams, InspectGroup, InspectSnapshot } from '../common/protocol';
import { ContextKey, type ManagerStateValue } from './ids';
import { startServerProcess, type ServerLaunch, type ServerProcess } from './serverProcess';

/** What changed in the manager: what it notified, or (`typeids`) a typeid registered from here. */
export type ManagerChange = InspectChangedParams & { typeids?: boolean };

/** Where the controller is. */
export type ManagerState = `${ManagerStateValue}`;

/** What the controller needs from the extension. */
export interface ControllerHost {
  log(line: string): void;
  /** Called when a manager started here exits on its own. */
  onCrash(reason: string): void;
}

/** The controller. */
export class ManagerController implements vscode.Disposable {
  private _state: ManagerState = 'stopped';
  private server: ServerProcess | undefined;
  private _client: Connected | undefined;
  private subscription: InspectionSubscription | undefined;
  private _address: string | undefined;
  private _authkey: string | undefined;
  private snapshotCache: Promise<InspectSnapshot> | undefined;
  /** What a manager started here serves from the setting: typeid → `TYPEID=TYPE(args)`. */
  private served = new Map<string, string>();
  /** The state file of the manager started here, which keeps its shared objects' contents across a restart. */
  private stateFile: string | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<ManagerState>();
  private readonly changeEmitter = new vscode.EventEmitter<ManagerChange>();

  /** Fires on every state change. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires with what the manager reports changed (merged by the manager per interval). */
  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly host: ControllerHost) {}

  get state(): ManagerState {
    return this._state;
  }

  /** The manager's address while running or attached. */
  get address(): string | undefined {
    return this._address;
  }

  /** The authkey of the manager running or attached. */
  get authkey(): string | undefined {
    return this._authkey;
  }

  /**
   * The variables a worker connects with (`connect()` reads them), while running or attached; what
   * terminals and debug sessions get.
   */
  connectionEnvironment(): Record<typeof ADDRESS_VARIABLE | typeof AUTHKEY_VARIABLE, string> | undefined {
    if (!this._client || !this._address || !this._authkey) return undefined;
    return { [ADDRESS_VARIABLE]: this._address, [AUTHKEY_VARIABLE]: this._authkey };
  }

  /** The inspection client, while running or attached. */
  get client(): Connected | undefined {
    return this._client;
  }

  /** Whether the manager was started here (so Stop applies), rather than attached to. */
  get owned(): boolean {
    return this.server !== undefined;
  }

  /** The latest snapshot, shared by every view until the next change. */
  snapshot(): Promise<InspectSnapshot> {
    if (!this._client) return Promise.reject(new Error('no manager'));
    this.snapshotCache ??= this._client.inspection.snapshot().catch((error) => {
      this.snapshotCache = undefined;
      throw error;
    });
    return this.snapshotCache;
  }

  /**
   * The group of managers this one serves with (SPEC 17.11), read fresh; undefined when there is no
   * manager or it is older than `inspect/group`.
   */
  async group(): Promise<InspectGroup | undefined> {
    return this._client?.inspection.group().catch(() => undefined);
  }

  /** The setting's registrations a manager started here serves (empty when attached or stopped). */
  get servedRegistrations(): ReadonlyMap<string, string> {
    return this.served;
  }

  /** Registers `TYPEID=TYPE(args)` with the manager started here, while it runs. */
  async register(typeid: string, spec: string): Promise<void> {
    if (!this.server || this._state !== 'running') throw new Error('no manager started here is running');
    await this.server.register(spec);
    this.served.set(typeid, spec);
    this.snapshotCache = undefined;
    this.changeEmitter.fire({ changed: [], added: [], removed: [], sessions: false, typeids: true });
  }

  /** Starts a manager in a child process and connects to it. */
  async start(options: Omit<ServerLaunch, 'log'>): Promise<void> {
    if (this._state !== 'stopped') throw new Error(`the manager is ${this._state}`);
    this.setState('starting');
    try {
      this.stateFile = options.stateFile;
      this.server = await startServerProcess({ ...options, log: (line) => this.host.log(line) });
      this.served = new Map(options.register.map((spec) => [spec.slice(0, spec.indexOf('=')), spec]));
      const server = this.server;
      void server.exited.then((how) => {
        if (how === undefined || this.server !== server) return;
        this.host.log(`the manager stopped unexpectedly (${how})`);
        void this.teardown().then(() => this.host.onCrash(how));
      });
      await this.connectTo(this.server.address, options.authkey);
      this.setState('running');
    } catch (error) {
      await this.teardown();
      throw error;
    }
  }

  /** Attaches to a manager started elsewhere (`syncmanager serve`, a script). */
  async attach(address: string, authkey: string, tls?: ClientTlsOptions): Promise<void> {
    if (this._state !== 'stopped') throw new Error(`the manager is ${this._state}`);
    this.setState('starting');
    try {
      await this.connectTo(address, authkey, tls);
      this.setState('attached');
    } catch (error) {
      await this.teardown();
      throw error;
    }
  }

  /**
   * Stops a manager started here (clean shutdown, then kill), or detaches from an attached one.
   * With `keep`, the manager's shared objects are saved to its state file for the next start (a
   * restart); without, the state file is removed: what they held is discarded.
   */
  async stop(options: { keep?: boolean } = {}): Promise<void> {
    if (this._state === 'stopped' || this._state === 'stopping') return;
    await this.teardown(options);
  }

  /**
   * What stopping a manager started here would discard: the clients connected besides this
   * extension, and the items in its queues. Undefined when none runs here.
   */
  async whatStopDiscards(): Promise<{ clients: number; items: number; queues: number } | undefined> {
    if (!this.server || !this._client) return undefined;
    // Fresh, not the views' cached one: a client may have connected since the last change was merged.
    const snapshot = await this._client.inspection.snapshot();
    const own = this._client.sessionId;
    const queues = snapshot.objects.filter((o) => /Queue$/.test(o.builtin ?? '') && (o.size ?? 0) > 0);
    return {
      clients: snapshot.sessions.filter((s) => s.sessionId !== own).length,
      items: queues.reduce((n, o) => n + (o.size ?? 0), 0),
      queues: queues.length,
    };
  }

  dispose(): void {
    // VS Code is closing: the manager saves its objects, and the next Start brings them back.
    void this.teardown({ keep: true });
    this.stateEmitter.dispose();
    this.changeEmitter.dispose();
  }

  /**
   * Stops whatever runs; the returned promise ends when the child process has exited. Unless
   * `keep`, the state file is removed afterwards, so the next start is empty: after Stop, and after
   * a crash, whose file would bring back items taken since the last clean stop.
   */
  async teardown(options: { keep?: boolean } = {}): Promise<void> {
    if (this._state === 'stopped' && !this.server && !this._client) return;
    this.setState('stopping');
    const client = this._client;
    const server = this.server;
    this._client = undefined;
    this.server = undefined;
    this.snapshotCache = undefined;
    await this.subscription?.dispose().catch(() => {});
    this.subscription = undefined;
    await client?.close().catch(() => {});
    await server?.stop();
    if (server && this.stateFile && !options.keep) {
      rmSync(this.stateFile, { force: true });
      this.host.log(`the manager's saved objects are discarded (${this.stateFile} removed)`);
    }
    this._address = undefined;
    this._authkey = undefined;
    this.served = new Map();
    this.setState('stopped');
  }

  private async connectTo(address: string, authkey: string, tls?: ClientTlsOptions): Promise<void> {
    const client = await connect({ address, authkey, name: 'vscode', timeout: 10, tls, reconnect: false });
    if (!client.serverInfo.capabilities.inspection) {
      await client.close();
      throw new Error(`the manager at ${address} does not offer inspection (protocol ${client.serverInfo.protocolVersion})`);
    }
    this._client = client;
    this._address = address;
    this._authkey = authkey;
    client.connectionLost(() => {
      if (this._client !== client) return;
      this.host.log(`lost the connection to the manager at ${address}`);
      if (!this.server) void this.teardown().then(() => this.host.onCrash('the connection was lost'));
    });
    this.subscription = await client.inspection.subscribe(
      (change) => {
        this.snapshotCache = undefined;
        this.changeEmitter.fire(change);
      },
      { intervalMs: 100 },
    );
  }

  private setState(state: ManagerState): void {
    if (this._state === state) return;
    this._state = state;
    void vscode.commands.executeCommand('setContext', ContextKey.State, state);
    this.stateEmitter.fire(state);
  }
}
