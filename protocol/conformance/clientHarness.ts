/**
 * The client-side conformance harness: a scripted server that plays the server's side of the
 * scenarios in `protocol/conformance/client-scenarios/` against a client under test, and reports
 * which expectations the client broke. The client runs behind a small adapter program that reads
 * commands as JSON lines on stdin and reports outcomes as JSON lines on stdout (README, "Checking a
 * client"). The harness has its own handshake and framing, independent of the clients it checks.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { match, ScenarioError, show, substitute, type Captures, type Json } from './patterns';
import { isJsonObject as isObject, loadScenarioFiles, parseScenarioText, playAll, playScenario, StepFailure, type ScenarioPlayer, type ScenarioResult, type ScenarioOf, type ScenarioStepOf, type StepParts } from './scenarioFile';
import { jsonText } from './wire';
import { ADDRESS_VARIABLE, AUTHKEY_VARIABLE } from '../../src/common/environmentVariables';

/** How the scripted server plays the handshake (README: client steps). */
export type ServerHandshake = 'ok' | 'refuse' | 'wrong-proof' | 'close';

/** What one client-scenario step does. */
export type ClientStepAction =
  | { kind: 'accept' }
  | { kind: 'handshake'; mode: ServerHandshake }
  | { kind: 'do'; command: { [key: string]: Json } }
  | { kind: 'expect'; pattern: { [key: string]: Json } }
  | { kind: 'send'; message: Json }
  | { kind: 'sendRaw'; text: string }
  | { kind: 'outcome'; pattern: { [key: string]: Json } }
  | { kind: 'noOutcome'; tag: string }
  | { kind: 'close' }
  | { kind: 'expectClose' }
  | { kind: 'expectSilentClose' };

/** One client-scenario step, with where it was written. */
export type ClientStep = ScenarioStepOf<ClientStepAction>;

/** A parsed client scenario. */
export type ClientScenario = ScenarioOf<ClientStepAction>;

/** How to start the client under test and how long to wait. */
export interface ClientRunOptions {
  /** The adapter's command line: the program and its arguments. */
  command: readonly string[];
  /** Extra environment for the adapter (SYNCMANAGER_ADDRESS and SYNCMANAGER_AUTHKEY are set by the harness). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The longest any step waits. Default 5000. */
  stepTimeoutMs?: number;
  /** Sits between the harness's listener and the client: returns the address the client is given. For tests that plant faults. */
  interpose?: (harnessAddress: string) => Promise<{ address: string; close(): void }>;
}

/** The outcome of one client scenario. */
export type ClientScenarioResult = ScenarioResult;

/** How long an `accept` waits at least: the adapter may still be starting. */
const ADAPTER_START_MS = 20_000;

/** The typeids the scripted server describes to every client that asks (`manager/describe`). */
export const DESCRIBED_TYPEIDS: Json = ['Queue', 'Lock', 'dict', 'list'].map((typeid) => ({
  typeid,
  exposed: null,
  methodToTypeid: {},
  createMethod: true,
  creatable: true,
  builtin: typeid,
}));

const HANDSHAKES = new Set<string>(['ok', 'refuse', 'wrong-proof', 'close'] satisfies ServerHandshake[]);

/** Reads one step's action; throws a message without the location, which the caller adds. */
function parseAction({ key, arg }: StepParts): ClientStepAction {
  const flag = (kind: 'accept' | 'close' | 'expectClose' | 'expectSilentClose'): ClientStepAction => {
    if (arg !== true) throw new Error(`"${key}" takes true`);
    return { kind };
  };
  switch (key) {
    case 'accept':
    case 'close':
    case 'expectClose':
    case 'expectSilentClose':
      return flag(key);
    case 'handshake':
      if (typeof arg !== 'string' || !HANDSHAKES.has(arg)) throw new Error(`"handshake" is one of ${[...HANDSHAKES].join(', ')}`);
      return { kind: 'handshake', mode: arg as ServerHandshake };
    case 'do':
      if (!isObject(arg) || typeof arg.op !== 'string') throw new Error('"do" takes a command object with an "op"');
      return { kind: 'do', command: arg };
    case 'expect':
      if (!isObject(arg)) throw new Error('"expect" takes an object pattern');
      return { kind: 'expect', pattern: arg };
    case 'send':
      return { kind: 'send', message: arg };
    case 'sendRaw':
      if (typeof arg !== 'string') throw new Error('"sendRaw" takes a string');
      return { kind: 'sendRaw', text: arg };
    case 'outcome':
      if (!isObject(arg) || typeof arg.tag !== 'string') throw new Error('"outcome" takes a pattern with a "tag"');
      return { kind: 'outcome', pattern: arg };
    case 'noOutcome':
      if (typeof arg !== 'string') throw new Error('"noOutcome" takes a tag');
      return { kind: 'noOutcome', tag: arg };
    default:
      throw new Error(`unknown step "${key}"`);
  }
}

/** Parses one client scenario; throws {@link ScenarioFormatError} naming `file:line`. */
export function parseClientScenario(text: string, file: string): ClientScenario {
  return parseScenarioText(text, file, parseAction);
}

/** Reads every client scenario of a directory, in name order. Scenario names must be unique. */
export function loadClientScenarios(dir: string): ClientScenario[] {
  return loadScenarioFiles(dir, parseClientScenario);
}

/** The directory of the client-side scenarios. */
export const CLIENT_SCENARIO_DIR = join(__dirname, 'client-scenarios');


/** Something to wait for, woken by socket or adapter events; every wait has a deadline. */
class Waits {
  private readonly waiters = new Set<() => void>();
  wake(): void {
    for (const w of [...this.waiters]) w();
  }
  until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(poll);
        if (error) reject(error);
        else resolve();
      };
      const poll = () => {
        if (check()) done();
      };
      const timer = setTimeout(() => done(new StepFailure(what())), timeoutMs);
      this.waiters.add(poll);
    });
  }
}

const CHALLENGE = Buffer.from('#CHALLENGE#');
const WELCOME = Buffer.from('#WELCOME#');
const FAILURE = Buffer.from('#FAILURE#');

/** One accepted connection from the client under test, seen from the server's side. */
class ClientConnection {
  private buffer = Buffer.alloc(0);
  /** Messages from the client, in arrival order, until a step takes them. */
  readonly queue: Json[] = [];
  ended = false;
  framed = false;
  protocolError: string | undefined;

  constructor(
    readonly socket: Socket,
    private readonly waits: Waits,
    private readonly autoAnswer: (conn: ClientConnection, message: Json) => boolean,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      if (this.framed) this.readMessages();
      waits.wake();
    });
    const end = () => {
      this.ended = true;
      waits.wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  send(message: Json): void {
    const body = Buffer.from(jsonText(message), 'utf8');
    this.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
  }

  /** The next handshake frame, or undefined if the client closed first. */
  async frame(timeoutMs: number, what: string): Promise<Buffer | undefined> {
    const complete = () => this.buffer.length >= 4 && this.buffer.length >= 4 + Math.max(0, this.buffer.readInt32BE(0));
    await this.waits.until(() => complete() || this.ended, timeoutMs, () => `no ${what} from the client within ${timeoutMs} ms`);
    if (!complete()) return undefined;
    const length = this.buffer.readInt32BE(0);
    if (length < 0 || length > 256) throw new StepFailure(`the client sent a handshake frame of ${length} bytes (section 3.1 allows 0 to 256)`);
    const payload = this.buffer.subarray(4, 4 + length);
    this.buffer = this.buffer.subarray(4 + length);
    return payload;
  }

  startFraming(): void {
    this.framed = true;
    this.readMessages();
  }

  private readMessages(): void {
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const header = this.buffer.subarray(0, end).toString('latin1');
      const length = /^content-length:\s*(\d{1,15})\s*$/im.exec(header);
      if (!length || !/^[A-Za-z]/.test(header)) {
        this.protocolError = `the client sent a malformed header ${JSON.stringify(header.slice(0, 80))}`;
        return;
      }
      const size = Number(length[1]);
      if (this.buffer.length < end + 4 + size) return;
      const body = this.buffer.subarray(end + 4, end + 4 + size).toString('utf8');
      this.buffer = this.buffer.subarray(end + 4 + size);
      let message: Json;
      try {
        message = JSON.parse(body) as Json;
      } catch {
        this.protocolError = `the client sent a body that is not JSON: ${body.slice(0, 120)}`;
        return;
      }
      if (!this.autoAnswer(this, message)) this.queue.push(message);
    }
  }
}

/** The adapter process: commands in, outcomes out. */
class Adapter {
  readonly outcomes: { [key: string]: Json }[] = [];
  readonly stderr: string[] = [];
  exited = false;

  constructor(
    readonly child: ChildProcess,
    waits: Waits,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const value = JSON.parse(line) as Json;
        if (isObject(value)) this.outcomes.push(value);
      } catch {
        this.stderr.push(`(stdout, not JSON) ${line}`);
      }
      waits.wake();
    });
    child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    child.on('exit', () => {
      this.exited = true;
      waits.wake();
    });
  }

  command(command: Json): void {
    if (!this.exited) this.child.stdin!.write(`${jsonText(command)}\n`);
  }

  /** Stops the adapter by its PID: stdin closed first, SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.stdin!.end();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}

/** Plays one client scenario. */
class ClientRun implements ScenarioPlayer<ClientStepAction> {
  private readonly waits = new Waits();
  private readonly conns = new Map<string, ClientConnection>();
  private readonly accepted: ClientConnection[] = [];
  private captures: Captures = new Map();
  private readonly authkey = randomBytes(16).toString('hex');
  private server!: Server;
  private adapter!: Adapter;
  private interposed: { address: string; close(): void } | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly scenario: ClientScenario,
    private readonly options: ClientRunOptions,
  ) {
    this.timeoutMs = options.stepTimeoutMs ?? 5000;
  }

  async start(): Promise<void> {
    this.server = createServer((socket) => {
      this.accepted.push(new ClientConnection(socket, this.waits, (conn, message) => this.autoAnswer(conn, message)));
      this.waits.wake();
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    let address = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    if (this.options.interpose) {
      this.interposed = await this.options.interpose(address);
      address = this.interposed.address;
    }
    const [program, ...args] = this.options.command;
    const child = spawn(program, args, {
      cwd: this.options.cwd,
      env: { ...process.env, ...this.options.env, [ADDRESS_VARIABLE]: address, [AUTHKEY_VARIABLE]: this.authkey },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.adapter = new Adapter(child, this.waits);
  }

  /** `manager/describe` is answered for every client that asks, whenever it asks (README). */
  private autoAnswer(conn: ClientConnection, message: Json): boolean {
    if (!isObject(message) || message.method !== 'manager/describe' || !('id' in message)) return false;
    conn.send({ jsonrpc: '2.0', id: message.id, result: { typeids: DESCRIBED_TYPEIDS } });
    return true;
  }

  private conn(step: ClientStep): ClientConnection {
    const conn = this.conns.get(step.conn);
    if (!conn) throw new ScenarioError(`connection "${step.conn}" was never accepted with {"accept": true}`);
    return conn;
  }

  async step(step: ClientStep): Promise<void> {
    const a = step.action;
    switch (a.kind) {
      case 'accept': {
        const taken = this.conns.size;
        // The first connection waits for the adapter's start-up too (an interpreter, a compiler), which is not the client's doing.
        const limit = Math.max(this.timeoutMs, ADAPTER_START_MS);
        await this.waits.until(() => this.accepted.length > taken || this.adapter.exited, limit, () => `the client did not connect within ${limit} ms`);
        if (this.accepted.length <= taken) throw new StepFailure('the adapter exited before the client connected', this.adapter.stderr.join('').slice(-1000));
        this.conns.set(step.conn, this.accepted[taken]);
        return;
      }
      case 'handshake':
        return this.handshake(this.conn(step), a.mode);
      case 'do':
        this.adapter.command(substitute(a.command, this.captures));
        return;
      case 'send':
        this.conn(step).send(substitute(a.message, this.captures));
        return;
      case 'sendRaw':
        this.conn(step).write(Buffer.from(a.text, 'utf8'));
        return;
      case 'expect':
        return this.expect(this.conn(step), a.pattern);
      case 'outcome':
        return this.outcome(a.pattern);
      case 'noOutcome': {
        const seen = this.adapter.outcomes.find((o) => o.tag === a.tag);
        if (seen) throw new StepFailure(`the client already reported ${JSON.stringify(a.tag)}`, show(seen));
        return;
      }
      case 'close':
        this.conn(step).socket.destroy();
        return;
      case 'expectClose':
      case 'expectSilentClose': {
        const conn = this.conn(step);
        await this.waits.until(() => conn.ended, this.timeoutMs, () => `the client did not close the connection within ${this.timeoutMs} ms`);
        // Silent: nothing more before the close, `manager/describe` (answered by the harness) aside.
        if (a.kind === 'expectSilentClose' && conn.queue.length > 0) throw new StepFailure('the client sent more before it closed the connection', conn.queue.map((m) => show(m)).join('\n'));
        return;
      }
    }
  }

  private async handshake(conn: ClientConnection, mode: ServerHandshake): Promise<void> {
    const key = Buffer.from(this.authkey, 'utf8');
    const ours = Buffer.concat([Buffer.from('{sha256}'), randomBytes(40)]);
    conn.write(frame(Buffer.concat([CHALLENGE, ours])));
    if (mode === 'close') {
      conn.socket.end();
      return;
    }
    const answer = await conn.frame(this.timeoutMs, 'answer to the challenge (step 2)');
    if (!answer) throw new StepFailure('the client closed instead of answering the challenge');
    const expected = Buffer.concat([Buffer.from('{sha256}'), createHmac('sha256', key).update(ours).digest()]);
    if (mode === 'refuse') {
      conn.write(frame(FAILURE));
      conn.socket.end();
      return;
    }
    // Section 3.4: the digest the challenge named, or (for old Pythons only) a bare HMAC-MD5.
    const bare = createHmac('md5', key).update(ours).digest();
    const proves = (want: Buffer) => answer.length === want.length && timingSafeEqual(answer, want);
    if (!proves(expected) && !proves(bare)) {
      throw new StepFailure('the client did not answer a {sha256} challenge with {sha256} + HMAC-SHA256 of the whole message (section 3.2)', answer.toString('hex'));
    }
    conn.write(frame(WELCOME));
    const challenge = await conn.frame(this.timeoutMs, 'challenge (step 4)');
    if (!challenge || !challenge.subarray(0, CHALLENGE.length).equals(CHALLENGE)) throw new StepFailure('the client did not challenge the server (step 4)');
    const message = challenge.subarray(CHALLENGE.length);
    const proof = mode === 'wrong-proof' ? createHmac('sha256', Buffer.from('not the key')).update(message).digest() : createHmac('sha256', key).update(message).digest();
    conn.write(frame(Buffer.concat([Buffer.from('{sha256}'), proof])));
    const verdict = await conn.frame(this.timeoutMs, 'verdict (step 6)');
    if (mode === 'wrong-proof') {
      if (verdict && !verdict.equals(FAILURE)) throw new StepFailure('the client accepted a server that did not prove the key (section 3.2: it must answer #FAILURE# or close)', verdict.toString('latin1'));
      return;
    }
    if (!verdict?.equals(WELCOME)) throw new StepFailure('the client did not answer #WELCOME# to a right proof', verdict?.toString('latin1'));
    conn.startFraming();
  }

  /** Takes the first message from the client that matches the pattern's `method` (or, without one, the first response). */
  private async expect(conn: ClientConnection, pattern: { [key: string]: Json }): Promise<void> {
    const wanted = (m: Json) => isObject(m) && ('method' in pattern ? match(pattern.method, m.method ?? null, this.captures).ok : !('method' in m));
    const what = 'method' in pattern ? `message ${show(pattern.method)}` : 'response';
    await this.waits.until(() => conn.queue.some(wanted) || conn.ended || !!conn.protocolError, this.timeoutMs, () => `the client sent no ${what} within ${this.timeoutMs} ms`);
    const index = conn.queue.findIndex(wanted);
    if (index < 0) throw new StepFailure(conn.protocolError ?? `the client closed the connection before it sent a ${what}`, conn.queue.map((m) => show(m)).join('\n') || undefined);
    const [message] = conn.queue.splice(index, 1);
    this.accept(pattern, message);
  }

  private async outcome(pattern: { [key: string]: Json }): Promise<void> {
    const tag = pattern.tag as string;
    const find = () => this.adapter.outcomes.findIndex((o) => o.tag === tag);
    await this.waits.until(() => find() >= 0 || this.adapter.exited, this.timeoutMs, () => `the client reported no outcome for ${JSON.stringify(tag)} within ${this.timeoutMs} ms`);
    const index = find();
    if (index < 0) throw new StepFailure(`the adapter exited before reporting ${JSON.stringify(tag)}`, this.adapter.stderr.join('').slice(-1000));
    const [outcome] = this.adapter.outcomes.splice(index, 1);
    this.accept(pattern, outcome);
  }

  private accept(pattern: Json, actual: Json): void {
    const result = match(pattern, actual, this.captures);
    if (!result.ok) throw new StepFailure(`at ${result.path}: ${result.reason}`, show(actual, 1000));
    this.captures = result.captures;
  }

  /** Every outcome the client reported must have been expected. */
  finish(): void {
    if (this.adapter.outcomes.length) throw new StepFailure(`the client reported ${this.adapter.outcomes.length} outcome(s) no step expected`, this.adapter.outcomes.map((o) => show(o)).join('\n'));
  }

  async stop(): Promise<void> {
    await this.adapter?.stop();
    for (const conn of this.accepted) conn.socket.destroy();
    this.interposed?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  context(): string | undefined {
    const log = this.adapter?.stderr.join('').trim().slice(-1500);
    return log ? `adapter stderr: ${log}` : undefined;
  }
}

function frame(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

/** Runs one client scenario against a fresh adapter process; never throws for a failing client. */
export function runClientScenario(scenario: ClientScenario, options: ClientRunOptions): Promise<ClientScenarioResult> {
  return playScenario(scenario, new ClientRun(scenario, options));
}

/** Runs client scenarios one after another, each with a fresh adapter. */
export function runClientScenarios(scenarios: readonly ClientScenario[], options: ClientRunOptions, onResult?: (r: ClientScenarioResult) => void): Promise<ClientScenarioResult[]> {
  return playAll(scenarios, (s) => runClientScenario(s, options), onResult);
}
