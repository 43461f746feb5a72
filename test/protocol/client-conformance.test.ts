/**
 * The client-side conformance harness (protocol/conformance/clientHarness.ts): a scripted server
 * plays every client scenario against our TypeScript client and our Python JSON client, each
 * behind its adapter; and the harness is shown to fail clients with planted faults, put between
 * the client and the harness by a relay that rewrites what passes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { ContentLengthDecoder, frameMessage } from '../../src/common/framing';
import {
  CLIENT_SCENARIO_DIR,
  loadClientScenarios,
  parseClientScenario,
  runClientScenario,
  runClientScenarios,
  type ClientRunOptions,
} from '../../protocol/conformance/clientHarness';
import { formatResult } from '../../protocol/conformance/runner';
import { python3s, root } from '../python/helpers';

const scenarios = loadClientScenarios(CLIENT_SCENARIO_DIR);
const typescriptAdapter: ClientRunOptions = {
  command: [process.execPath, '--import', 'tsx', join(root, 'protocol', 'conformance', 'adapters', 'typescript.ts')],
  cwd: root,
  stepTimeoutMs: 5000,
};
const pythonAdapter = (bin: string): ClientRunOptions => ({
  command: [bin, join(root, 'protocol', 'conformance', 'adapters', 'python_json_client.py')],
  cwd: root,
  env: { PYTHONPATH: join(root, 'clients', 'python'), PYTHONDONTWRITEBYTECODE: '1' },
  stepTimeoutMs: 5000,
});

test('the client scenarios cover what a client must do: handshake both ways, answers, errors, notifications, a late answer, a confirmed cancel, a close mid-call', () => {
  const names = scenarios.map((s) => s.name);
  for (const name of ['connect', 'handshake-refused', 'handshake-closed', 'server-not-proven', 'results-and-errors', 'server-notifications-ignored', 'blocked-call-answered-late', 'cancellation-confirmed', 'connection-closed-mid-call']) {
    assert.ok(names.includes(name), `a client scenario ${name}`);
  }
  for (const s of scenarios) {
    assert.equal(`${s.name}.jsonl`, s.file.split(/[\\/]/).pop(), `${s.file} is named after its scenario`);
    assert.ok(s.description.length > 20 && s.spec.length > 0, `${s.name} has a description and SPEC sections`);
  }
  assert.throws(() => parseClientScenario('{"scenario": "x"}\n{"do": {"tag": "t"}}', 'inline'), /inline:2: "do" takes a command object with an "op"/);
});

test('every client scenario against the TypeScript client', async (t) => {
  for (const scenario of scenarios) {
    await t.test(scenario.name, async () => {
      const result = await runClientScenario(scenario, typescriptAdapter);
      assert.ok(result.ok, formatResult(result));
    });
  }
});

test('every client scenario against the Python JSON client, for every Python 3.8+', async (t) => {
  const pythons = python3s().filter((p) => p.minor >= 8);
  assert.ok(pythons.length > 0, 'a Python 3.8 or later is installed');
  for (const python of pythons) {
    await t.test(python.label, async () => {
      const results = await runClientScenarios(scenarios, pythonAdapter(python.bin));
      const failed = results.filter((r) => !r.ok);
      assert.deepEqual(failed.map(formatResult), []);
    });
  }
});

/**
 * A relay between the client and the harness that passes the handshake frames as they are and
 * then hands each JSON-RPC message to `rewrite`, which returns what to pass on (or nothing, to
 * drop it): the client and the relay together are a client with a planted fault.
 */
function faultyRelay(rewrite: { toServer?: (m: Record<string, unknown>) => Record<string, unknown> | undefined; toClient?: (m: Record<string, unknown>) => Record<string, unknown> | undefined }): ClientRunOptions['interpose'] {
  return async (harness) => {
    const port = Number(harness.slice(harness.lastIndexOf(':') + 1));
    const sockets: Socket[] = [];
    const pipe = (from: Socket, to: Socket, change: ((m: Record<string, unknown>) => Record<string, unknown> | undefined) | undefined) => {
      // Three handshake frames go each way (SPEC 3.2) before the first message.
      let frames = 0;
      let pending = Buffer.alloc(0);
      const decoder = new ContentLengthDecoder((body) => {
        const message = JSON.parse(body) as Record<string, unknown>;
        const out = change ? change(message) : message;
        if (out) to.write(frameMessage(JSON.stringify(out)));
      });
      from.on('data', (chunk: Buffer) => {
        if (frames === 3) return decoder.push(chunk);
        pending = Buffer.concat([pending, chunk]);
        while (frames < 3 && pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
          const size = 4 + pending.readInt32BE(0);
          to.write(pending.subarray(0, size));
          pending = pending.subarray(size);
          frames++;
        }
        if (frames === 3 && pending.length) decoder.push(pending);
      });
      from.on('close', () => to.destroy());
    };
    const relay = createServer((client) => {
      const server = netConnect({ host: '127.0.0.1', port });
      sockets.push(client, server);
      pipe(client, server, rewrite.toServer);
      pipe(server, client, rewrite.toClient);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    return {
      address: `127.0.0.1:${(relay.address() as AddressInfo).port}`,
      close() {
        for (const s of sockets) s.destroy();
        relay.close();
      },
    };
  };
}

const scenario = (name: string) => scenarios.find((s) => s.name === name)!;

test('the harness reports a client with planted faults', async (t) => {
  await t.test('the relay alone plants nothing: the scenarios pass through it', async () => {
    const result = await runClientScenario(scenario('cancellation-confirmed'), { ...typescriptAdapter, interpose: faultyRelay({}) });
    assert.ok(result.ok, formatResult(result));
  });

  await t.test('a client that drops its $/cancelRequest notification', async () => {
    const dropCancel = faultyRelay({ toServer: (m) => (m.method === '$/cancelRequest' ? undefined : m) });
    const result = await runClientScenario(scenario('cancellation-confirmed'), { ...typescriptAdapter, interpose: dropCancel });
    assert.equal(result.ok, false);
    assert.match(result.failure!.step, /"\$\$\/cancelRequest"/);
    assert.match(result.failure!.message, /the client sent no message "\$\$\/cancelRequest" within 5000 ms/);
  });

  await t.test('a client that mismatches ids: an answer reaches no request, or the wrong one', async () => {
    // Each answer to an object/call comes to the client with the id of the next request.
    const calls = new Set<unknown>();
    const shiftIds = faultyRelay({
      toServer: (m) => {
        if (m.method === 'object/call') calls.add(m.id);
        return m;
      },
      toClient: (m) => (!('method' in m) && calls.has(m.id) && typeof m.id === 'number' ? { ...m, id: m.id + 1 } : m),
    });
    const result = await runClientScenario(scenario('blocked-call-answered-late'), { ...typescriptAdapter, interpose: shiftIds });
    assert.equal(result.ok, false, 'the harness noticed');
    assert.match(formatResult(result), /FAIL blocked-call-answered-late .*blocked-call-answered-late\.jsonl:\d+/);
    assert.match(result.failure!.message, /the client reported no outcome for "size" within 5000 ms|at \/result/);
  });
});
