/**
 * What every session is, whatever protocol it speaks: an id, what it holds (references, locks,
 * permits), the calls it has waiting and what withdraws them, the order in which a closing
 * session gives everything back, and the summary inspection shows. A protocol session owns one
 * core and adds only its framing and its wire forms.
 */

import type { Socket } from 'node:net';
import type { ClientInfo, InspectGroup, InspectSnapshot, SessionSummary } from '../../common/protocol';
import type { BufferBudget } from '../bufferBudget';
import type { CallActivity } from '../callActivity';
import type { Inspector } from '../inspector';
import type { ObjectEntry, ObjectTable } from '../objectTable';
import type { Registry } from '../registry';
import type { CallingSession, Withdrawable } from './callContext';
import { Holdings } from './holdings';

/** What a session needs from its manager. */
export interface SessionHost {
  readonly registry: Registry;
  readonly table: ObjectTable;
  readonly serverVersion: string;
  readonly maxMessageBytes: number;
  /** Most values one message may hold once read (see `limits.ts`). */
  readonly maxMessageValues: number;
  /** Whether messages may hold pickles of classes the server does not read (see `limits.ts`). */
  readonly opaquePickles: boolean;
  /** The bytes of incomplete messages all sessions hold, counted together. */
  readonly buffers: BufferBudget;
  /** Silence after which a session that agreed on ping is dropped, in ms (SPEC 20.1). */
  readonly livenessTimeoutMs: number;
  /** Whether a client may stop the manager (`shutdown { server: true }`, Python's `shutdown`). */
  readonly allowRemoteShutdown: boolean;
  /** Stops the manager (remote shutdown). */
  shutdownServer(): void;
  /** Called once when the session ends (a JSON-RPC session, or a Python client's channel). */
  sessionClosed(session: ConnectedSession): void;
  /** Collects changes for inspection tools. */
  readonly inspector: Inspector;
  /** The calls inspection watches (Activity). */
  readonly activity: CallActivity;
  /** Whether clients that ask may inspect (the manager's `inspection` option). */
  readonly inspectionAllowed: boolean;
  /** Everything inspection shows. */
  snapshot(): InspectSnapshot;
  /** Every manager of the group with its sessions, and the objects the group shares (`inspect/group`). */
  groupView(): Promise<InspectGroup>;
  log(message: string): void;
}

/** A session as the manager lists it, whatever its protocol. */
export interface ConnectedSession {
  readonly id: string;
  readonly clientInfo?: ClientInfo;
  readonly processId: number | null;
  readonly remoteAddress: string;
  /** Whether it stopped reading because its peer does not read its answers. */
  readonly isThrottled: boolean;
  /** Calls currently waiting. */
  readonly pendingCount: number;
  summary(): SessionSummary;
  close(): void;
}

/**
 * Ends a session's connection: the socket ends once what is queued is written, and is destroyed
 * 2 s later whatever its peer does, since a peer that never reads would keep it half-open forever.
 */
export function endConnection(socket: Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), 2000).unref();
}

/** A request's id: JSON-RPC's, or one the Python session numbers its calls with. */
export type RequestId = number | string;

let sessionCounter = 0;

/** A new session id (`s1`, `s2`, ...), one sequence for every protocol, as inspection shows them. */
function nextSessionId(): string {
  return `s${++sessionCounter}`;
}

/** A waiting call: what withdraws it, and what inspection shows of it. */
interface PendingCall {
  readonly controller: Withdrawable;
  readonly objectId: string;
  readonly typeid: string;
  readonly method: string;
  readonly since: number;
}

/** The protocol-independent state of one session. */
export class SessionCore implements CallingSession {
  /** The session's id, as inspection shows it. */
  readonly id = nextSessionId();
  /** When the session started (ms since the epoch). */
  readonly startedAt = Date.now();
  /** What the session holds (locks, permits), given back when it ends. */
  readonly holdings: Holdings;
  /** The holder the object table counts this session's references under. */
  readonly holder: string;
  #closing = false;
  #peerGone = false;
  #ended = false;
  readonly #pending = new Map<RequestId, PendingCall>();
  /**
   * Calls cancelled while in flight but not waiting yet (one whose object must first be fetched
   * starts a turn later): each is withdrawn as soon as it would wait, or refused if it checks first.
   */
  readonly #cancelledEarly = new Set<RequestId>();
  /** The bytes of incomplete messages the session holds, as the shared budget counts them. */
  #buffered = 0;
  /**
   * How to give back what a call took, until its answer is delivered (see CallContext.giveBack).
   * The latest is kept apart from the map: a session mostly has one at a time (each queue get
   * registers one), and a field costs less per call than a map entry made and deleted.
   */
  readonly #undos = new Map<RequestId, (result: unknown) => void>();
  #latestUndoId: RequestId | undefined;
  #latestUndo: ((result: unknown) => void) | undefined;
  /**
   * The give-backs of answers found undelivered in this turn, carried out together at its end (or
   * as the session ends, if sooner), last first: each puts what its call took back in front (a
   * queue's next item), so calls whose answers are lost together (a client that left with gets in
   * flight, their answers arriving together) are undone in the reverse order of what they did,
   * and their items come out again in the order they were taken.
   */
  #undoing: (() => void)[] | undefined;

  constructor(
    private readonly host: SessionHost,
    /** The holder of its references, when not the session itself (Python counts references per process). */
    holder?: string,
  ) {
    this.holder = holder ?? this.id;
    this.holdings = new Holdings(this.id, host.inspector, host.log);
  }

  /** Whether the session is closing or closed: it starts nothing new and is given no new reference. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Follows the connection's end: an end of stream or a failure means the client reads no more
   * (see {@link peerLeft}) and the session closes its own side (`close`); once the socket has
   * closed, `closed` ends the session.
   */
  watch(socket: Socket, session: { close(): void; closed(): void; readonly label: string }): void {
    socket.on('end', () => {
      this.peerLeft();
      session.close();
    });
    socket.on('close', () => session.closed());
    socket.on('error', (error) => {
      this.host.log(`${session.label} ${this.id}: ${error.message}`);
      this.peerLeft();
    });
  }

  /** Whether the client's end of stream arrived (or its connection failed): nothing written reaches it any more. */
  get peerGone(): boolean {
    return this.#peerGone;
  }

  /**
   * The client can no longer read answers: its waiting calls are withdrawn at once, a turn
   * before the socket closes, so nothing is handed to them in between.
   */
  peerLeft(): void {
    if (this.#peerGone) return;
    this.#peerGone = true;
    this.beginClosing();
  }

  /** Calls currently waiting. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Records a call that is about to wait (called by its context when the method asks for a signal, or says it may wait). */
  callBlocked(controller: Withdrawable, entry: ObjectEntry, method: string, requestId: RequestId): void {
    this.#pending.set(requestId, { controller, objectId: entry.id, typeid: entry.typeid, method, since: Date.now() });
    if (this.#cancelledEarly.size > 0 && this.#cancelledEarly.delete(requestId)) controller.abort();
    const inspector = this.host.inspector;
    if (inspector.active) {
      inspector.sessionsChanged();
      // Its waiters changed (a queue's waitingGetters, say).
      inspector.touched(entry.id);
    }
  }

  /** Records how to give back what call `requestId` took, should its answer not reach the client. */
  onUndelivered(requestId: RequestId, undo: (result: unknown) => void): void {
    if (this.#undos.size > 0) this.#undos.delete(requestId);
    if (this.#latestUndo !== undefined && this.#latestUndoId !== requestId) this.#undos.set(this.#latestUndoId!, this.#latestUndo);
    this.#latestUndoId = requestId;
    this.#latestUndo = undo;
  }

  /** The answer to `requestId` is on its way: what the call took is the client's. */
  delivered(requestId: RequestId): void {
    this.takeUndo(requestId);
  }

  /**
   * The answer to `requestId` cannot reach the client (its connection is gone, or the answer is
   * too large): gives back what the call took, at the end of this turn with the others found so
   * ({@link #undoing}). Returns whether there was something to give back.
   */
  undelivered(requestId: RequestId, result: unknown): boolean {
    const undo = this.takeUndo(requestId);
    if (!undo) return false;
    if (this.#undoing === undefined) {
      this.#undoing = [];
      process.nextTick(() => this.#undoAll());
    }
    this.#undoing.push(() => undo(result));
    return true;
  }

  /** Carries out the give-backs of this turn's undelivered answers, last first (see {@link #undoing}). */
  #undoAll(): void {
    const undos = this.#undoing;
    if (undos === undefined) return;
    this.#undoing = undefined;
    for (let i = undos.length - 1; i >= 0; i--) {
      try {
        undos[i]!();
      } catch (error) {
        this.host.log(`session ${this.id}: giving back what a call took failed: ${(error as Error).message}`);
      }
    }
  }

  /** Removes and returns how to give back what call `requestId` took, if anything. */
  private takeUndo(requestId: RequestId): ((result: unknown) => void) | undefined {
    const latest = this.#latestUndo;
    if (latest !== undefined && this.#latestUndoId === requestId) {
      this.#latestUndo = this.#latestUndoId = undefined;
      return latest;
    }
    if (this.#undos.size === 0) return undefined;
    const undo = this.#undos.get(requestId);
    this.#undos.delete(requestId);
    return undo;
  }

  /**
   * Withdraws a waiting call (`$/cancelRequest`). A call in flight that is not waiting yet
   * (`inFlight`: the protocol knows it is) is withdrawn when it would; any other is left alone.
   */
  cancel(requestId: RequestId, inFlight: boolean): void {
    const call = this.#pending.get(requestId);
    if (call) call.controller.abort();
    else if (inFlight) this.#cancelledEarly.add(requestId);
  }

  /** Whether call `requestId` was cancelled before it could wait (see {@link cancel}). */
  cancelledEarly(requestId: RequestId): boolean {
    return this.#cancelledEarly.size > 0 && this.#cancelledEarly.has(requestId);
  }

  /** A request is answered: it waits no more, and inspection hears of the object it touched. */
  settled(requestId: RequestId, touched: string | undefined): void {
    // Most calls never waited: no lookup for them.
    const call = this.#pending.size > 0 ? this.#pending.get(requestId) : undefined;
    if (call) this.#pending.delete(requestId);
    if (this.#cancelledEarly.size > 0) this.#cancelledEarly.delete(requestId);
    const inspector = this.host.inspector;
    if (!inspector.active) return;
    if (call) inspector.sessionsChanged();
    if (touched) inspector.touched(touched);
  }

  /**
   * Records the bytes of incomplete messages the session holds now (what it held before is
   * replaced), against the budget every connection shares. False, recording nothing, when that
   * would pass the budget: the session must then drop its bytes ({@link dropBuffered}) and close.
   */
  holdBuffered(bytes: number): boolean {
    if (bytes === this.#buffered) return true;
    if (!this.host.buffers.change(this.#buffered, bytes)) return false;
    this.#buffered = bytes;
    return true;
  }

  /** The session dropped every byte it held: they leave the shared budget. */
  dropBuffered(): void {
    this.host.buffers.change(this.#buffered, 0);
    this.#buffered = 0;
  }

  /** The session starts closing: every waiting call is withdrawn (it answers with no effect). */
  beginClosing(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.withdrawAll();
  }

  /**
   * The connection is gone: give everything back, in this order. Waiting calls are withdrawn
   * first, so what the session held goes to other clients, not to its own waiters; then what it
   * holds; then its references. Returns false if it had ended already.
   */
  end(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    this.#closing = true;
    this.#peerGone = true;
    this.withdrawAll();
    // Before what it holds and its references go: an object it alone kept must still be there.
    this.#undoAll();
    this.holdings.end();
    // A closed connection's incomplete messages are dropped with it (the session discards them).
    this.dropBuffered();
    const { inspector, table } = this.host;
    inspector.unsubscribe(this.id);
    this.host.activity.unwatch(this.id);
    if (this.holder === this.id) {
      const referenced = inspector.active ? table.idsHeldBy(this.id) : [];
      table.releaseSession(this.id);
      // Objects that stay lost a holder: their rows change too.
      for (const id of referenced) if (table.get(id)) inspector.touched(id);
    }
    return true;
  }

  /** What inspection shows of the session; the protocol adds who the client is. */
  summary(facts: { protocol: SessionSummary['protocol']; remoteAddress: string; processId: number | null; clientInfo?: ClientInfo }): SessionSummary {
    const summary: SessionSummary = {
      sessionId: this.id,
      processId: facts.processId,
      remoteAddress: facts.remoteAddress,
      protocol: facts.protocol,
      connectedAt: this.startedAt,
      // References held under another holder (Python's, per process) are not this session's.
      references: this.holder === this.id ? this.host.table.referencesOf(this.id) : 0,
      pending: [...this.#pending].map(([requestId, c]) => ({ requestId, objectId: c.objectId, typeid: c.typeid, method: c.method, since: c.since })),
      holds: this.holdings.objectIds(),
    };
    const deliveries = this.holdings.deliveries();
    if (deliveries.length > 0) summary.deliveries = deliveries;
    if (facts.clientInfo) summary.clientInfo = facts.clientInfo;
    return summary;
  }

  private withdrawAll(): void {
    for (const call of [...this.#pending.values()]) call.controller.abort();
  }
}
