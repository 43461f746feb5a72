/**
 * The conformance suite (protocol/conformance/) against syncmanager's own server: every scenario
 * is a subtest, so a failure names it. Besides, the messages the scenarios are written with, and
 * every message that crosses the wire while they run, validate against protocol/schema.json,
 * and a few scenarios written here check that the runner itself fails when it should.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hasPlaceholders, match, substitute, type Json } from '../../protocol/conformance/patterns';
import { parseArgs } from '../../protocol/conformance/run';
import { formatResult, loadScenarios, parseScenario, runScenario, SCENARIO_DIR, ScenarioFormatError, type RunOptions, type Scenario } from '../../protocol/conformance/runner';
import { AUTHKEY, startManager } from '../helpers/manager';
import { testFolder } from '../helpers/tempFolder';
import { validateMessage } from './schemaValidator';

/** The server's handshake timeout here: short, since one scenario waits it out. */
const HANDSHAKE_TIMEOUT_MS = 1000;
const STEP_TIMEOUT_MS = 4000;

/**
 * Scenarios our server fails because the server, not the scenario, departs from SPEC.md. They
 * still run; node:test reports them as todo so the suite stays green until the server is fixed.
 */
const KNOWN_SERVER_BUGS: Record<string, string> = {};

/**
 * Error codes with which a server refuses a message as malformed or unknown (ParseError,
 * InvalidRequest, MethodNotFound, InvalidParams, InvalidValue). A scenario sends such messages on
 * purpose, so they need not be valid against the schema; every other message must be.
 */
const REFUSALS = new Set([-32700, -32600, -32601, -32602, -31008]);

type Obj = { [key: string]: Json };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const key = (conn: string, id: Json | undefined) => `${conn}\u0000${JSON.stringify(id)}`;

/** The body of a `sendRaw` frame, parsed, when it is one JSON message. */
function rawBody(text: string): Json | undefined {
  const start = text.indexOf('\r\n\r\n');
  if (start < 0) return undefined;
  try {
    return JSON.parse(text.slice(start + 4)) as Json;
  } catch {
    return undefined;
  }
}

/** What a scenario says about its requests: the method of each `conn`+id, and the error code its expect demands. */
function requestFacts(scenario: Scenario): { methods: Map<string, string>; codes: Map<string, number> } {
  const methods = new Map<string, string>();
  const codes = new Map<string, number>();
  for (const step of scenario.steps) {
    const a = step.action;
    const message = a.kind === 'send' ? a.message : a.kind === 'sendRaw' ? rawBody(a.text) : undefined;
    // The method as sent: `$$/ping` in a scenario is the method `$/ping`.
    if (isObj(message) && typeof message.method === 'string' && 'id' in message) methods.set(key(step.conn, message.id), substitute(message.method, new Map()) as string);
    if (a.kind === 'expect' && 'id' in a.pattern && isObj(a.pattern.error) && typeof a.pattern.error.code === 'number') {
      codes.set(key(step.conn, a.pattern.id), a.pattern.error.code);
    }
  }
  return { methods, codes };
}

const scenarios = loadScenarios(SCENARIO_DIR);

test('the suite has enough scenarios, each named after its file, covering the spec sections it claims', () => {
  assert.ok(scenarios.length >= 30, `${scenarios.length} scenarios`);
  for (const s of scenarios) {
    assert.equal(`${s.name}.jsonl`, s.file.split(/[\\/]/).pop(), `${s.file} is named after its scenario`);
    assert.ok(s.description.length > 20, `${s.name} has a description`);
    assert.ok(s.spec.length > 0 && s.spec.every((section) => /^\d+(\.\d+)*$/.test(section)), `${s.name} names SPEC sections`);
    assert.ok(s.steps.some((step) => step.action.kind === 'expect' || step.action.kind === 'expectClose' || step.action.kind === 'handshake'), `${s.name} checks something`);
  }
  for (const name of Object.keys(KNOWN_SERVER_BUGS)) assert.ok(scenarios.some((s) => s.name === name), `known bug ${name} names a scenario`);
});

test('the messages the scenarios are written with validate against protocol/schema.json', () => {
  let sends = 0;
  let expects = 0;
  for (const scenario of scenarios) {
    const { methods, codes } = requestFacts(scenario);
    for (const step of scenario.steps) {
      const a = step.action;
      const where = `${scenario.file}:${step.line}`;
      if (a.kind === 'send' && !hasPlaceholders(a.message)) {
        const id = isObj(a.message) ? a.message.id : undefined;
        if (REFUSALS.has(codes.get(key(step.conn, id)) ?? 0)) continue;
        assert.deepEqual(validateMessage(a.message), [], `${where}: ${step.text}`);
        sends++;
      }
      if (a.kind === 'expect' && !hasPlaceholders(a.pattern)) {
        assert.deepEqual(validateMessage(a.pattern, methods.get(key(step.conn, a.pattern.id))), [], `${where}: ${step.text}`);
        expects++;
      }
    }
  }
  // Guards against a filter that lets everything through unchecked.
  assert.ok(sends >= 150, `${sends} sends checked`);
  assert.ok(expects >= 300, `${expects} expects checked`);
});

test('every scenario against syncmanager\'s server', async (t) => {
  await using manager = await startManager({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
  const traffic: { scenario: Scenario; conn: string; direction: 'sent' | 'received'; message: Json }[] = [];
  const options: RunOptions = {
    address: manager.address,
    authkey: AUTHKEY,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    stepTimeoutMs: STEP_TIMEOUT_MS,
    onSend: (scenario, conn, message) => traffic.push({ scenario, conn, direction: 'sent', message }),
    onMessage: (scenario, conn, message) => traffic.push({ scenario, conn, direction: 'received', message }),
  };

  for (const scenario of scenarios) {
    const todo = KNOWN_SERVER_BUGS[scenario.name];
    await t.test(scenario.name, { todo }, async () => {
      const result = await runScenario(scenario, options);
      assert.ok(result.ok, formatResult(result));
    });
  }

  await t.test('every message sent and received while they ran validates against the schema', () => {
    const facts = new Map(scenarios.map((s) => [s, requestFacts(s)]));
    let received = 0;
    for (const { scenario, conn, direction, message } of traffic) {
      const { methods, codes } = facts.get(scenario)!;
      const id = isObj(message) ? message.id : undefined;
      if (direction === 'sent') {
        if (REFUSALS.has(codes.get(key(conn, id)) ?? 0)) continue;
        assert.deepEqual(validateMessage(message), [], `${scenario.name} sent ${JSON.stringify(message)}`);
      } else {
        const method = isObj(message) && !('method' in message) ? methods.get(key(conn, id)) : undefined;
        assert.deepEqual(validateMessage(message, method), [], `${scenario.name} received ${JSON.stringify(message).slice(0, 500)}`);
        received++;
      }
    }
    assert.ok(received > 500, `${received} messages received`);
  });
});

test('the runner fails a scenario that deserves it', async (t) => {
  await using manager = await startManager({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
  const options: RunOptions = { address: manager.address, authkey: AUTHKEY, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, stepTimeoutMs: 500 };
  const prologue = [
    '{"connect": true}',
    '{"handshake": "ok"}',
    '{"send": {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "1.2"}}}',
    '{"expect": {"jsonrpc": "2.0", "id": 1, "result": {"$more": true, "protocolVersion": "1.2"}}}',
    '{"send": {"jsonrpc": "2.0", "id": 2, "method": "object/create", "params": {"typeid": "Queue"}}}',
    '{"expect": {"jsonrpc": "2.0", "id": 2, "result": {"$more": true, "id": "$capture:q"}}}',
  ];
  /** Runs an inline scenario; `body` lines follow the prologue, which is lines 2 to 7. */
  const run = (name: string, body: string[]) => runScenario(parseScenario([`{"scenario": "${name}", "spec": ["15"]}`, ...prologue, ...body].join('\n'), `inline:${name}`), options);

  await t.test('a control scenario passes, so the failures below are the runner\'s doing', async () => {
    const result = await run('control', [
      '{"send": {"jsonrpc": "2.0", "id": 3, "method": "object/call", "params": {"id": "${q}", "method": "qsize"}}}',
      '{"expect": {"jsonrpc": "2.0", "id": 3, "result": 0}}',
    ]);
    assert.ok(result.ok, formatResult(result));
  });

  await t.test('a wrong result', async () => {
    const result = await run('wrong-result', [
      '{"send": {"jsonrpc": "2.0", "id": 3, "method": "object/call", "params": {"id": "${q}", "method": "qsize"}}}',
      '{"expect": {"jsonrpc": "2.0", "id": 3, "result": 1}}',
    ]);
    assert.equal(result.ok, false);
    assert.equal(result.failure?.line, 9);
    assert.match(result.failure!.message, /at \/result: expected 1, got 0/);
    assert.match(result.failure!.received!, /"result":0/);
  });

  await t.test('a response no step expected', async () => {
    const result = await run('unexpected-response', [
      '{"send": {"jsonrpc": "2.0", "id": 3, "method": "object/call", "params": {"id": "${q}", "method": "qsize"}}}',
      '{"send": {"jsonrpc": "2.0", "id": 4, "method": "object/call", "params": {"id": "${q}", "method": "empty"}}}',
      '{"expect": {"jsonrpc": "2.0", "id": 4, "result": true}}',
    ]);
    assert.equal(result.ok, false);
    assert.equal(result.failure?.step, '(end of scenario)');
    assert.match(result.failure!.message, /1 response\(s\) no step expected/);
    assert.match(result.failure!.received!, /"id":3/);
  });

  await t.test('notYet for a request already answered', async () => {
    const result = await run('answered-not-yet', [
      '{"send": {"jsonrpc": "2.0", "id": 3, "method": "object/call", "params": {"id": "${q}", "method": "qsize"}}}',
      '{"send": {"jsonrpc": "2.0", "id": 4, "method": "object/call", "params": {"id": "${q}", "method": "empty"}}}',
      '{"expect": {"jsonrpc": "2.0", "id": 4, "result": true}}',
      '{"notYet": 3}',
      '{"expect": {"jsonrpc": "2.0", "id": 3, "result": 0}}',
    ]);
    assert.equal(result.ok, false);
    assert.equal(result.failure?.line, 11);
    assert.match(result.failure!.message, /id 3 has already arrived/);
  });

  await t.test('a notYet is also wrong once an earlier expect took the response', async () => {
    const result = await run('taken-not-yet', [
      '{"send": {"jsonrpc": "2.0", "id": 3, "method": "object/call", "params": {"id": "${q}", "method": "qsize"}}}',
      '{"expect": {"jsonrpc": "2.0", "id": 3, "result": 0}}',
      '{"notYet": 3}',
    ]);
    assert.equal(result.ok, false);
    assert.match(result.failure!.message, /already arrived/);
  });

  await t.test('a response that never comes, an extra key, a close that does not happen', async () => {
    const never = await run('never', [
      '{"send": {"jsonrpc": "2.0", "id": 3, "method": "object/call", "params": {"id": "${q}", "method": "get"}}}',
      '{"expect": {"jsonrpc": "2.0", "id": 3, "result": "$any"}}',
    ]);
    assert.match(never.failure?.message ?? '', /no response with id 3 within 500 ms/);
    const extra = await run('extra-key', ['{"send": {"jsonrpc": "2.0", "id": 3, "method": "manager/describe"}}', '{"expect": {"jsonrpc": "2.0", "id": 3}}']);
    assert.match(extra.failure?.message ?? '', /unexpected key "result"/);
    const open = await run('stays-open', ['{"expectClose": true}']);
    assert.match(open.failure?.message ?? '', /did not close/);
  });

  await t.test('an expect whose id is a placeholder other than ${NAME} takes the first response in arrival order that it matches', async () => {
    const result = await run('placeholder-id', [
      '{"send": {"jsonrpc": "2.0", "id": 3, "method": "object/call", "params": {"id": "${q}", "method": "qsize"}}}',
      '{"send": {"jsonrpc": "2.0", "id": 4, "method": "object/call", "params": {"id": "${q}", "method": "empty"}}}',
      '{"expect": {"jsonrpc": "2.0", "id": "$capture:first", "result": 0}}',
      '{"expect": {"jsonrpc": "2.0", "id": "$integer", "result": true}}',
    ]);
    assert.ok(result.ok, formatResult(result));
  });

  await t.test('scenario mistakes are reported as such, not as server failures', async () => {
    const typo = await run('typo', ['{"send": {"jsonrpc": "2.0", "id": 3, "method": "manager/describe"}}', '{"expect": {"jsonrpc": "2.0", "id": 3, "result": "$objekt"}}']);
    assert.match(typo.failure?.message ?? '', /^scenario error: unknown placeholder "\$objekt"/);
    const unknown = await run('never-captured', ['{"send": {"jsonrpc": "2.0", "id": 3, "method": "object/call", "params": {"id": "${nope}", "method": "qsize"}}}']);
    assert.match(unknown.failure?.message ?? '', /^scenario error: "\$\{nope\}" was never captured/);
    assert.throws(() => parseScenario('{"scenario": "x"}\n{"sned": {}}', 'inline'), (e: unknown) => e instanceof ScenarioFormatError && /inline:2: unknown step "sned"/.test(e.message));
    assert.throws(() => parseScenario('{"scenario": "x"}\n{"expect": {"result": 1}}', 'inline'), ScenarioFormatError);
  });
});

test('patterns match as the README says', () => {
  const ok = (pattern: Json, actual: Json) => match(pattern, actual).ok;
  assert.ok(ok(1, 1.0));
  assert.ok(!ok(1, '1'));
  assert.ok(!ok({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(ok({ a: 1, $more: true }, { a: 1, b: 2 }));
  assert.ok(!ok({ a: '$any' }, {}), '$any needs the key');
  assert.ok(ok({ a: '$any' }, { a: null }));
  assert.ok(ok('$integer', 3) && !ok('$integer', 3.5) && ok('$number', 3.5));
  assert.ok(ok('$object', {}) && !ok('$object', []) && ok('$array', []) && !ok('$string', 1) && ok('$boolean', false));
  assert.ok(ok({ $unordered: [1, 2, 3] }, [3, 1, 2]) && !ok({ $unordered: [1, 2] }, [1, 1]) && !ok({ $unordered: [1] }, [1, 2]));
  assert.ok(ok({ $anyOf: [1, '$string'] }, 'x') && !ok({ $anyOf: [1, 2] }, 3));
  assert.ok(ok('$$ref', '$ref') && !ok('$$ref', '$$ref'));
  assert.ok(ok({ $float: 2 }, { $float: 2 }), 'object keys are literal: value tags match themselves');
  const captured = match([{ id: '$capture:q' }, '${q}'], [{ id: '7' }, '7']);
  assert.ok(captured.ok && captured.captures.get('q') === '7');
  assert.ok(!match([{ id: '$capture:q' }, '${q}'], [{ id: '7' }, 7]).ok, 'a capture matches only its own value and type');
  assert.ok(match('${v}', { $more: true }, new Map([['v', { $more: true }]])).ok, 'a captured value is compared, not read as a pattern');
  // A failed $anyOf branch leaves no capture behind.
  const r = match({ $anyOf: [['$capture:x', 1], ['$any', '$capture:y']] }, [5, 2]);
  assert.ok(r.ok && !r.captures.has('x') && r.captures.get('y') === 2);
  assert.deepEqual(substitute({ id: '${q}', s: '$$x', n: ['${n}'] }, new Map<string, Json>([['q', '7'], ['n', 3]])), { id: '7', s: '$x', n: [3] });
  assert.throws(() => substitute('$any', new Map()), /cannot be sent/);
  assert.deepEqual(substitute({ $$x: '$$y' }, new Map()), { $$x: '$y' }, '$$ is un-escaped in string values, never in object keys');
  assert.ok(!match(0, -0).ok && !match(-0, 0).ok && match(-0, -0).ok, 'a negative zero matches only a negative zero');
});

test('run.ts prints a line per scenario, writes --json, and exits 0, 1 or 2', async (t) => {
  await using manager = await startManager({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
  const root = join(__dirname, '..', '..');
  const dir = testFolder(t, 'conformance');
  // execFile, not a synchronous spawn: the server under test runs in this process.
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'protocol', 'conformance', 'run.ts'), ...args], { cwd: root, timeout: 20_000, env: { ...process.env, SYNCMANAGER_AUTHKEY: '', ...env } }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code, stdout: error.stdout ?? '' }),
    );
  const json = join(dir, 'results.json');
  // The key by environment, as a secret should travel (a command line is every local user's to read).
  const passing = await cli([manager.address, '--only', 'handshake-ok', '--only', 'manager-describe', '--json', json], { SYNCMANAGER_AUTHKEY: AUTHKEY });
  assert.equal(passing.code, 0, passing.stdout);
  assert.match(passing.stdout, /^ok {3}handshake-ok \(\d+ ms\)$/m);
  assert.match(passing.stdout, /^ok {3}manager-describe /m);
  assert.match(passing.stdout, /2 passed, 0 failed, 2 scenarios/);
  const results = JSON.parse(readFileSync(json, 'utf8')) as { name: string; ok: boolean }[];
  assert.deepEqual(results.map((r) => [r.name, r.ok]), [['handshake-ok', true], ['manager-describe', true]]);

  // --authkey wins over the environment.
  const failing = await cli([manager.address, '--authkey', 'not-the-key', '--only', 'handshake-ok', '--step-timeout-ms', '2000'], { SYNCMANAGER_AUTHKEY: AUTHKEY });
  assert.equal(failing.code, 1, failing.stdout);
  assert.match(failing.stdout, /^FAIL handshake-ok  .*handshake-ok\.jsonl:3$/m);
  assert.match(failing.stdout, /step: {5}\{"handshake": "ok"\}/);
  assert.match(failing.stdout, /problem: {2}the right key was not answered #WELCOME#/);

  assert.equal((await cli([manager.address, '--authkey', AUTHKEY, '--only', 'no-such-scenario'])).code, 2);
  assert.equal((await cli([manager.address, '--only', 'handshake-ok'])).code, 2, 'no key at all is a usage error');
  assert.deepEqual(parseArgs(['[::1]:5', '--authkey', 'k', '--only', 'a', '--only', 'b', '--step-timeout-ms', '10'], {}), {
    address: '[::1]:5', authkey: 'k', handshakeTimeoutMs: undefined, stepTimeoutMs: 10, only: ['a', 'b'], json: undefined,
  });
  assert.throws(() => parseArgs(['127.0.0.1:1'], {}), /SYNCMANAGER_AUTHKEY or --authkey/);
  assert.equal(parseArgs(['127.0.0.1:1'], { SYNCMANAGER_AUTHKEY: 'from env' }).authkey, 'from env');
  assert.throws(() => parseArgs(['127.0.0.1:1', '--authkey', 'k', '--step-timeout-ms', '-1'], {}), /positive number/);
});
