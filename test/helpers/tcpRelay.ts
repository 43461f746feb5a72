/**
 * A TCP relay between a client and a manager, so a test can cut the network (every connection
 * through it dropped, new ones refused) and mend it, and count what went through it.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

/** A running relay on 127.0.0.1. */
export interface TcpRelay extends AsyncDisposable {
  /** Where clients connect: `127.0.0.1:PORT`. */
  readonly address: string;
  /**
   * Drops every connection through the relay abruptly (RST) and refuses new ones until {@link mend}:
   * reset at once, or with `'end'` accepted and ended (FIN), as a port forward whose manager is down does.
   */
  cut(refuse?: 'reset' | 'end'): void;
  /** How many connections the relay refused since it started. */
  readonly refused: number;
  /** Resolves once the relay has refused `times` connections in all; rejects, saying how many, if that takes 20 s. */
  untilRefused(times: number): Promise<void>;
  /** Accepts connections again. */
  mend(): void;
  /** How many times `text` went through, client to manager, across all connections so far. */
  countUpstream(text: string): number;
  /** Resolves once `text` has gone upstream `times` times in all; rejects, saying how many, if that takes 20 s. */
  untilUpstream(text: string, times: number): Promise<void>;
  /**
   * From now on until {@link cut}, what the manager sends is read and dropped, not passed on: the
   * manager carries out requests whose answers the client never sees (answers lost in a cut).
   */
  dropDownstream(): void;
  /**
   * From now on until {@link releaseUpstream}, what clients send is counted but kept back, not
   * passed on: the manager's writes are late, as on a slow network.
   */
  holdUpstream(): void;
  /**
   * Holds what clients send as {@link holdUpstream} does, from the first read holding `text` on
   * (that read included): the manager's writes are late from the moment it sends `text`, however
   * many it sent before, which a test need not predict.
   */
  holdUpstreamFrom(text: string): void;
  /** Passes on what was kept back, in order, and what comes from now on. */
  releaseUpstream(): void;
  /** How many times `text` came from the manager, across all connections so far (passed on or dropped). */
  countDownstream(text: string): number;
  /** Resolves once `text` has come from the manager `times` times in all (passed on or dropped); rejects, saying how many, if that takes 20 s. */
  untilDownstream(text: string, times: number): Promise<void>;
  /**
   * The next time `text` goes `way` (client to manager: upstream), passes on only the bytes of its
   * read before it, so that the message it is in arrives half written and then its stream ends,
   * and cuts the network as {@link cut} does. Resolves once cut; rejects if `text` has not gone that way within 20 s,
   * or the relay closes first.
   */
  cutMidway(way: 'upstream' | 'downstream', text: string): Promise<void>;
  /** The next time `text` comes from the manager, the read it is in goes on to the client followed by `bytes`, in one write. */
  appendDownstream(text: string, bytes: string): void;
  /** The next `times` reads from the manager holding `text` go on to the client as `bytes` instead (a message the client cannot read). */
  spoilDownstream(text: string, bytes: string, times?: number): void;
  close(): Promise<void>;
}

/**
 * Drops a connection abruptly (RST). A socket whose own end is already under way (its peer
 * ended, so Node ended it too) is destroyed instead: Node cannot reset a socket while its
 * shutdown is pending (the reset fails with EINVAL and leaves the handle open for good, so the
 * process spins at exit, waiting for it to close). That socket is closing with a FIN anyway.
 */
function drop(socket: Socket): void {
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}

/** How long a relay waits for traffic a test expects before failing the wait: far beyond any test's need, well within its timeout. */
const WAIT_MS = 20_000;

/** Starts a relay to `target` (`host:port`). */
export async function startRelay(target: string): Promise<TcpRelay> {
  const at = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, at), Number(target.slice(at + 1))];
  const pairs = new Set<[Socket, Socket]>();
  let upstreamText = '';
  let downstreamText = '';
  const watchers = new Set<() => void>();
  let open = true;
  let refuseBy: 'reset' | 'end' = 'reset';
  let refused = 0;
  let dropping = false;
  let holding = false;
  let holdingFrom: string | undefined;
  const held: [Socket, Buffer][] = [];
  let appending: { text: string; bytes: string } | undefined;
  let spoiling: { text: string; bytes: string; times: number } | undefined;
  let midway: { way: 'upstream' | 'downstream'; text: string; done(): void; closed(): void } | undefined;
  /** With {@link TcpRelay.cutMidway} armed for `way`: passes on `chunk` up to its text to `to`, ends `to`, cuts; else false. */
  const cutMidwayIn = (way: 'upstream' | 'downstream', chunk: Buffer, to: Socket): boolean => {
    const at = midway?.way === way ? chunk.toString('latin1').indexOf(midway.text) : -1;
    if (at < 0) return false;
    const { done } = midway!;
    midway = undefined;
    // Its half message, then an orderly end, so that the bytes are not thrown away by a reset.
    to.end(chunk.subarray(0, at));
    relay.cut();
    done();
    return true;
  };
  const server: Server = createServer((client) => {
    if (!open) {
      refused++;
      for (const watcher of [...watchers]) watcher();
      return void (refuseBy === 'end' ? client.end() : client.resetAndDestroy());
    }
    const upstream = netConnect({ host, port });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      upstreamText += chunk.toString('latin1');
      for (const watcher of [...watchers]) watcher();
      if (cutMidwayIn('upstream', chunk, upstream)) return;
      if (holdingFrom !== undefined && chunk.toString('latin1').includes(holdingFrom)) {
        holding = true;
        holdingFrom = undefined;
      }
      if (holding) held.push([upstream, chunk]);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      downstreamText += chunk.toString('latin1');
      for (const watcher of [...watchers]) watcher();
      if (cutMidwayIn('downstream', chunk, client)) return;
      if (appending && chunk.toString('latin1').includes(appending.text)) {
        chunk = Buffer.concat([chunk, Buffer.from(appending.bytes, 'latin1')]);
        appending = undefined;
      }
      if (spoiling && chunk.toString('latin1').includes(spoiling.text)) {
        chunk = Buffer.from(spoiling.bytes, 'latin1');
        if (--spoiling.times <= 0) spoiling = undefined;
      }
      if (!dropping) client.write(chunk);
    });
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  /**
   * Resolves once `condition` holds, checked whenever data goes through; rejects naming `what` after
   * {@link WAIT_MS}, so that a test waiting for traffic that never comes fails saying so instead of hanging.
   */
  const until = (what: () => string, condition: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`relay: ${what()} after ${WAIT_MS} ms`));
      }, WAIT_MS);
      const check = () => {
        if (!condition()) return;
        watchers.delete(check);
        clearTimeout(timer);
        resolve();
      };
      watchers.add(check);
      check();
    });
  const count = (text: string) => upstreamText.split(text).length - 1;
  const relay: TcpRelay = {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    get refused() {
      return refused;
    },
    cut(refuse = 'reset') {
      open = false;
      refuseBy = refuse;
      dropping = false;
      for (const [client, upstream] of pairs) {
        drop(client);
        drop(upstream);
      }
      pairs.clear();
    },
    mend() {
      open = true;
    },
    countUpstream: count,
    dropDownstream() {
      dropping = true;
    },
    holdUpstream() {
      holding = true;
    },
    holdUpstreamFrom(text) {
      holdingFrom = text;
    },
    releaseUpstream() {
      holding = false;
      holdingFrom = undefined;
      for (const [upstream, chunk] of held.splice(0)) if (!upstream.destroyed) upstream.write(chunk);
    },
    countDownstream: (text) => downstreamText.split(text).length - 1,
    untilDownstream(text, times) {
      const seen = () => relay.countDownstream(text);
      return until(() => `${JSON.stringify(text)} came from the manager ${seen()} times, not ${times}`, () => seen() >= times);
    },
    untilRefused(times) {
      return until(() => `the relay refused ${refused} connections, not ${times}`, () => refused >= times);
    },
    untilUpstream(text, times) {
      return until(() => `${JSON.stringify(text)} went to the manager ${count(text)} times, not ${times}`, () => count(text) >= times);
    },
    appendDownstream(text, bytes) {
      appending = { text, bytes };
    },
    spoilDownstream(text, bytes, times = 1) {
      spoiling = { text, bytes, times };
    },
    cutMidway(way, text) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          midway = undefined;
          reject(new Error(`relay: ${JSON.stringify(text)} did not go ${way}, to be cut midway, within ${WAIT_MS} ms`));
        }, WAIT_MS);
        const closed = () => (clearTimeout(timer), reject(new Error(`relay: closed before ${JSON.stringify(text)} went ${way}, to be cut midway`)));
        midway = { way, text, done: () => (clearTimeout(timer), resolve()), closed };
      });
    },
    async close() {
      // A cut armed and never made ends here, its wait with it.
      midway?.closed();
      midway = undefined;
      relay.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    [Symbol.asyncDispose]: () => relay.close(),
  };
  return relay;
}
