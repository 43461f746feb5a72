/**
 * The conformance suite's interpreter, as a library: it reads the scenario files of
 * `protocol/conformance/scenarios/` and plays the client's side of each against a server, exactly
 * as `protocol/conformance/README.md` describes the format. `run.ts` is its command line; the
 * tests run it against syncmanager's own server.
 */

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { match, ScenarioError, sameId, show, substitute, type Captures, type Json } from './patterns';
import { isJsonObject as isObject, loadScenarioFiles, parseScenarioText, playAll, playScenario, StepFailure, type Failure, type ScenarioResult, ScenarioFormatError, type ScenarioOf, type ScenarioStepOf, type ScenarioPlayer, type StepParts } from './scenarioFile';
import { Connection, WireError } from './wire';

export { ScenarioFormatError, type Failure, type ScenarioResult };

/** What one step does; `conn` and its source line are kept beside it in {@link ScenarioStep}. */
export type StepAction =
  | { kind: 'connect' }
  | { kind: 'handshake'; mode: HandshakeMode }
  | { kind: 'send'; message: Json; attachments?: Buffer[] }
  | { kind: 'sendRaw'; text: string }
  | { kind: 'expect'; pattern: { [key: string]: Json }; attachments?: Json }
  | { kind: 'notYet'; id: Json }
  | { kind: 'expectClose' }
  | { kind: 'close' };

/** The client's side of the handshake a `handshake` step plays (README: Steps). */
export type HandshakeMode = 'ok' | 'wrong-key' | 'silent' | 'legacy-md5' | 'downgraded-digest' | 'oversized-frame';

/** One step of a server scenario, with where it was written. */
export type ScenarioStep = ScenarioStepOf<StepAction>;

/** A parsed server scenario file. */
export type Scenario = ScenarioOf<StepAction>;

/** How to reach the server under test, and how long to wait. */
export interface RunOptions {
  /** `host:port` or `[ipv6]:port`. */
  address: string;
  authkey: string | Buffer;
  /** The server's handshake timeout; the `silent` handshake waits this long plus 5 s. Default 10 000. */
  handshakeTimeoutMs?: number;
  /** The longest any step waits. Default 5000. */
  stepTimeoutMs?: number;
  /** Sees every message sent by a `send` step, after substitution. */
  onSend?: (scenario: Scenario, conn: string, message: Json) => void;
  /** Sees every message received, in arrival order, before any step takes it. */
  onMessage?: (scenario: Scenario, conn: string, message: Json) => void;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const HANDSHAKES = new Set<string>(['ok', 'wrong-key', 'silent', 'legacy-md5', 'downgraded-digest', 'oversized-frame'] satisfies HandshakeMode[]);

/** Reads one step's action; throws a message without the location, which the caller adds. */
function parseAction({ key, arg }: StepParts): StepAction {
  const flag = (kind: 'connect' | 'expectClose' | 'close'): StepAction => {
    if (arg !== true) throw new Error(`"${key}" takes true`);
    return { kind };
  };
  switch (key) {
    case 'connect':
    case 'expectClose':
    case 'close':
      return flag(key);
    case 'handshake':
      if (typeof arg !== 'string' || !HANDSHAKES.has(arg)) throw new Error(`"handshake" is one of ${[...HANDSHAKES].map((h) => JSON.stringify(h)).join(', ')}`);
      return { kind: 'handshake', mode: arg as HandshakeMode };
    case 'send':
      return { kind: 'send', message: arg };
    case 'sendAttached': {
      const attachments = isObject(arg) ? arg.attachments : undefined;
      if (!isObject(arg) || !Array.isArray(attachments) || !attachments.every((a) => typeof a === 'string' && BASE64.test(a))) {
        throw new Error('"sendAttached" takes {"message": {...}, "attachments": ["<base64>", ...]}');
      }
      return { kind: 'send', message: arg.message, attachments: attachments.map((a) => Buffer.from(a as string, 'base64')) };
    }
    case 'sendRaw':
      if (typeof arg !== 'string') throw new Error('"sendRaw" takes a string');
      return { kind: 'sendRaw', text: arg };
    case 'expect':
      // Which message an expect takes depends on its id or method (README), so it needs one.
      if (!isObject(arg) || !('id' in arg || 'method' in arg)) throw new Error('"expect" takes an object pattern with an "id" or a "method"');
      if ('$attachments' in arg) {
        // Not a member of the message: the pattern of its frame's attachments (README: Attachments).
        const { $attachments: attachments, ...pattern } = arg;
        return { kind: 'expect', pattern, attachments };
      }
      return { kind: 'expect', pattern: arg };
    case 'notYet':
      if (typeof arg !== 'number' && typeof arg !== 'string') throw new Error('"notYet" takes a request id');
      return { kind: 'notYet', id: arg };
    default:
      throw new Error(`unknown step "${key}"`);
  }
}

/** Parses one server scenario file's text; throws {@link ScenarioFormatError} naming `file:line`. */
export function parseScenario(text: string, file: string): Scenario {
  return parseScenarioText(text, file, parseAction);
}

/** Reads every server scenario of a directory, in name order. Scenario names must be unique. */
export function loadScenarios(dir: string): Scenario[] {
  return loadScenarioFiles(dir, parseScenario);
}

/** The directory that holds the suite's scenarios. */
export const SCENARIO_DIR = join(__dirname, 'scenarios');


function isResponse(message: Json): message is { [key: string]: Json } {
  return isObject(message) && 'id' in message && !('method' in message);
}

function isNotification(message: Json): message is { [key: string]: Json } {
  return isObject(message) && 'method' in message && !('id' in message);
}

function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`address ${JSON.stringify(address)} is not host:port`);
  const host = address.slice(0, colon);
  return { host: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host, port };
}

/** What is waiting in a connection's queue, for failure reports. */
function queued(conn: Connection): string | undefined {
  if (conn.protocolError) return conn.protocolError;
  if (!conn.queue.length) return conn.ended ? '(the connection closed)' : undefined;
  return conn.queue.map((r) => show(r.message, 200)).join('\n');
}

/** Plays one scenario's steps in order; the state a run keeps. */
class Run implements ScenarioPlayer<StepAction> {
  private readonly conns = new Map<string, Connection>();
  private captures: Captures = new Map();
  private readonly host: string;
  private readonly port: number;
  private readonly authkey: Buffer;
  private readonly stepTimeoutMs: number;
  private readonly handshakeTimeoutMs: number;

  constructor(
    private readonly scenario: Scenario,
    private readonly options: RunOptions,
  ) {
    ({ host: this.host, port: this.port } = parseAddress(options.address));
    this.authkey = Buffer.isBuffer(options.authkey) ? options.authkey : Buffer.from(options.authkey, 'utf8');
    this.stepTimeoutMs = options.stepTimeoutMs ?? 5000;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  }

  private conn(step: ScenarioStep): Connection {
    const conn = this.conns.get(step.conn);
    if (!conn) throw new ScenarioError(`connection "${step.conn}" was never opened with {"connect": true}`);
    return conn;
  }

  async step(step: ScenarioStep): Promise<void> {
    const action = step.action;
    switch (action.kind) {
      case 'connect': {
        const existing = this.conns.get(step.conn);
        if (existing && !existing.closedByClient && !existing.ended) throw new ScenarioError(`connection "${step.conn}" is already open`);
        const onMessage = this.options.onMessage;
        const conn = await Connection.open(step.conn, this.host, this.port, this.stepTimeoutMs, onMessage && ((m) => onMessage(this.scenario, step.conn, m)));
        this.conns.set(step.conn, conn);
        return;
      }
      case 'handshake':
        return this.handshake(this.conn(step), action.mode);
      case 'send': {
        const message = substitute(action.message, this.captures);
        this.conn(step).send(message, action.attachments);
        this.options.onSend?.(this.scenario, step.conn, message);
        return;
      }
      case 'sendRaw':
        this.conn(step).write(Buffer.from(action.text, 'utf8'));
        return;
      case 'expect':
        return 'id' in action.pattern ? this.expectResponse(this.conn(step), action.pattern, action.attachments) : this.expectNotification(this.conn(step), action.pattern);
      case 'notYet': {
        const conn = this.conn(step);
        const id = substitute(action.id, this.captures);
        if (conn.responseIds.some((seen) => sameId(seen, id))) {
          const still = conn.queue.find((r) => isResponse(r.message) && sameId(r.message.id, id));
          throw new StepFailure(`a response with id ${show(id)} has already arrived`, still ? show(still.message) : '(it was taken by an earlier expect)');
        }
        return;
      }
      case 'expectClose': {
        const conn = this.conn(step);
        await conn.waitFor(() => conn.ended, this.stepTimeoutMs, () => `the server did not close the connection within ${this.stepTimeoutMs} ms`).catch(rethrowWith(conn));
        return;
      }
      case 'close':
        this.conn(step).close();
        return;
    }
  }

  private async handshake(conn: Connection, mode: HandshakeMode): Promise<void> {
    if (mode === 'silent') {
      // The server must give up on its own: wait its handshake timeout, plus margin.
      const limit = this.handshakeTimeoutMs + 5000;
      await conn.waitFor(() => conn.ended, limit, () => `the server did not close a silent connection within ${limit} ms`);
      return;
    }
    if (mode === 'ok' || mode === 'legacy-md5') {
      await conn.handshake(this.authkey, this.stepTimeoutMs, true, mode === 'ok' ? 'prefixed' : 'bare-md5').catch(rethrowWith(conn));
      return;
    }
    if (mode === 'wrong-key') {
      // Any other key will do; make sure it differs from the right one.
      let wrong = Buffer.from(`wrong-${randomBytes(8).toString('hex')}`);
      if (wrong.equals(this.authkey)) wrong = Buffer.concat([wrong, Buffer.from('!')]);
      await conn.handshake(wrong, this.stepTimeoutMs, false).catch(rethrowWith(conn));
    } else {
      await conn.handshake(this.authkey, this.stepTimeoutMs, false, mode === 'downgraded-digest' ? 'md5-prefixed' : 'oversized').catch(rethrowWith(conn));
    }
    await conn.waitFor(() => conn.ended, this.stepTimeoutMs, () => `the server did not close the connection after #FAILURE# within ${this.stepTimeoutMs} ms`);
    if (conn.unreadBytes > 0) throw new StepFailure('the server sent more after #FAILURE#');
  }

  /** Takes the response whose id matches, wherever it is in the queue (blocked calls answer out of order). */
  private async expectResponse(conn: Connection, pattern: { [key: string]: Json }, attachments?: Json): Promise<void> {
    match(pattern.id, null, this.captures); // surfaces a scenario error (an unknown name) before waiting
    const find = () => conn.queue.findIndex((r) => isResponse(r.message) && match(pattern.id, r.message.id, this.captures).ok);
    await conn
      .waitFor(() => find() >= 0 || conn.ended || !!conn.protocolError, this.stepTimeoutMs, () => `no response with id ${show(pattern.id)} within ${this.stepTimeoutMs} ms`)
      .catch(rethrowWith(conn));
    const index = find();
    if (index < 0) {
      throw new StepFailure(conn.protocolError ?? `the connection closed before a response with id ${show(pattern.id)} arrived`, queued(conn));
    }
    const [taken] = conn.queue.splice(index, 1);
    // A frame's attachments are matched as base64 strings; a pattern without "$attachments" takes a frame without any.
    if (attachments !== undefined || taken.attachments) {
      const received = taken.attachments?.map((a) => a.toString('base64')) ?? [];
      const result = match(attachments ?? [], received, this.captures);
      if (!result.ok) throw new StepFailure(`the frame's attachments (section 5.1), at ${result.path}: ${result.reason}`, show(received, 1000));
      this.captures = result.captures;
    }
    this.accept(pattern, taken.message);
  }

  /** Takes the first notification with the method; notifications of other methods before it are dropped. */
  private async expectNotification(conn: Connection, pattern: { [key: string]: Json }): Promise<void> {
    match(pattern.method, null, this.captures);
    const find = () => conn.queue.findIndex((r) => isNotification(r.message) && match(pattern.method, r.message.method, this.captures).ok);
    await conn
      .waitFor(() => find() >= 0 || conn.ended || !!conn.protocolError, this.stepTimeoutMs, () => `no notification ${show(pattern.method)} within ${this.stepTimeoutMs} ms`)
      .catch(rethrowWith(conn));
    const index = find();
    if (index < 0) throw new StepFailure(conn.protocolError ?? `the connection closed before a notification ${show(pattern.method)} arrived`, queued(conn));
    const taken = conn.queue[index].message;
    // Drop the taken one and the other notifications before it; responses stay for their expects.
    const kept = conn.queue.filter((r, i) => i > index || (i < index && !isNotification(r.message)));
    conn.queue.splice(0, conn.queue.length, ...kept);
    this.accept(pattern, taken);
  }

  private accept(pattern: Json, message: Json): void {
    const result = match(pattern, message, this.captures);
    if (!result.ok) throw new StepFailure(`at ${result.path}: ${result.reason}`, show(message, 1000));
    this.captures = result.captures;
  }

  /** The README's end check: every response must have been expected. */
  finish(): void {
    for (const conn of this.conns.values()) {
      if (conn.protocolError) throw new StepFailure(`connection "${conn.name}": ${conn.protocolError}`);
      const left = conn.queue.filter((r) => isResponse(r.message));
      if (left.length) {
        throw new StepFailure(`connection "${conn.name}" received ${left.length} response(s) no step expected`, left.map((r) => show(r.message, 300)).join('\n'));
      }
    }
  }

  stop(): void {
    for (const conn of this.conns.values()) if (!conn.closedByClient) conn.close();
  }
}

/** Adds what waits in the queue to a timeout, so that a failure shows what came instead. */
function rethrowWith(conn: Connection): (error: unknown) => never {
  return (error) => {
    if (error instanceof WireError) throw new StepFailure(error.message, error.received ?? queued(conn));
    throw error;
  };
}

/** Runs one scenario against the server and reports it; never throws for a failing server. */
export function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  return playScenario(scenario, new Run(scenario, options));
}

/** Runs scenarios one after another (they share one server), handing each result to `onResult` as it comes. */
export function runAll(scenarios: readonly Scenario[], options: RunOptions, onResult?: (result: ScenarioResult) => void): Promise<ScenarioResult[]> {
  return playAll(scenarios, (s) => runScenario(s, options), onResult);
}

/** One result as the command line prints it: `ok NAME`, or `FAIL NAME` with `file:line`, the step and what arrived. */
export function formatResult(result: ScenarioResult): string {
  if (result.ok) return `ok   ${result.name} (${result.durationMs} ms)`;
  const f = result.failure!;
  const lines = [`FAIL ${result.name}  ${result.file}:${f.line}`, `     step:     ${f.step}`, `     problem:  ${f.message}`];
  if (f.received) lines.push(...f.received.split('\n').map((l, i) => `     ${i === 0 ? 'received: ' : '          '}${l}`));
  return lines.join('\n');
}
