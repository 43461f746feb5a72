/**
 * The client-side harness's adapter for syncmanager's TypeScript client (src/client): it reads
 * the harness's commands as JSON lines on stdin, carries each out with the client, and writes one
 * outcome line per command on stdout (protocol/conformance/README.md, "Checking a client").
 * Commands run concurrently: a blocked call does not hold up the next command.
 *
 *   node --import tsx protocol/conformance/adapters/typescript.ts
 */

import { createInterface } from 'node:readline';
import { connect, proxyBase, type AnyProxy, type BaseProxy, type Delivery, type QueueProxy } from '../../../src/client';
import { AbortError, AuthenticationError, ConnectionClosedError, ProtocolError, RemoteError, TimeoutError } from '../../../src/client/errors';
import { writeJson } from '../../../src/common/jsonText';
import { decodeValue, encodeValue } from '../../../src/common/valueCodec';

type Command = { op: string; tag: string; [key: string]: unknown };

let client: Awaited<ReturnType<typeof connect>> | undefined;
const objects = new Map<string, BaseProxy>();
const deliveries = new Map<string, Delivery>();

function report(line: Record<string, unknown>): void {
  process.stdout.write(`${writeJson(line)}\n`);
}

/** The driver protocol's error kinds (README), from the client's error classes. */
function describeError(error: unknown): Record<string, unknown> {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RemoteError) return { kind: 'remote', type: error.type, message };
  if (error instanceof AbortError) return { kind: 'cancelled', message };
  if (error instanceof AuthenticationError) return { kind: 'authentication', message };
  if (error instanceof ConnectionClosedError) return { kind: 'connectionClosed', message };
  if (error instanceof TimeoutError) return { kind: 'timeout', message };
  if (error instanceof ProtocolError) return { kind: 'protocol', code: error.code, message };
  return { kind: 'other', type: error instanceof Error ? error.name : typeof error, message };
}

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'connect':
      client = await connect({
        name: 'conformance-adapter',
        timeout: 5,
        // Session resumption (since 1.3, SPEC 20.4), reconnecting soon so that scenarios stay short.
        ...(typeof command.resumeWithinMs === 'number' ? { resume: { withinMs: command.resumeWithinMs }, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } } : {}),
      });
      return null;
    case 'create': {
      const proxy = (await client!.create(command.typeid as string)) as AnyProxy;
      const base = (proxy as unknown as { [proxyBase]: BaseProxy })[proxyBase];
      objects.set(command.as as string, base);
      return base.token.id;
    }
    case 'call': {
      const proxy = objects.get(command.object as string);
      if (!proxy) throw new Error(`no object named ${JSON.stringify(command.object)} was created`);
      const args = decodeValue(command.args ?? []) as unknown[];
      const kwargs = command.kwargs === undefined ? undefined : (Object.fromEntries(Object.entries(command.kwargs as object).map(([k, v]) => [k, decodeValue(v)])) as Record<string, unknown>);
      const signal = typeof command.deadlineMs === 'number' ? AbortSignal.timeout(command.deadlineMs) : undefined;
      return encodeValue(await proxy.callMethod(command.method as string, args, kwargs, { signal }));
    }
    case 'getAck': {
      const proxy = objects.get(command.object as string) as QueueProxy | undefined;
      if (!proxy) throw new Error(`no object named ${JSON.stringify(command.object)} was created`);
      const visibilityTimeout = command.visibilityTimeout as number | undefined;
      const delivery = await proxy.get({ ack: true, ...(visibilityTimeout === undefined ? {} : { visibilityTimeout }) });
      deliveries.set(command.as as string, delivery);
      return { value: encodeValue(delivery.value), redelivered: delivery.redelivered, deliveryCount: delivery.deliveryCount };
    }
    case 'settle': {
      const delivery = deliveries.get(command.delivery as string);
      if (!delivery) throw new Error(`no delivery named ${JSON.stringify(command.delivery)} was taken`);
      await (command.how === 'nack' ? delivery.nack() : delivery.ack());
      return null;
    }
    case 'close':
      await client?.close();
      return null;
    default:
      throw new Error(`unknown op ${JSON.stringify(command.op)}`);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const command = JSON.parse(line) as Command;
  run(command).then(
    (result) => report({ tag: command.tag, result: result ?? null }),
    (error: unknown) => report({ tag: command.tag, error: describeError(error) }),
  );
});
process.stdin.on('end', () => {
  void client?.close().finally(() => process.exit(0));
  if (!client) process.exit(0);
});
