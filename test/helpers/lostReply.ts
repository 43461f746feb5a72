/**
 * The set-up of the tests where the manager's reply from Redis is lost (test/redis/lost-reply*):
 * a manager whose store goes through a relay, which a test makes drop what Redis sends after a
 * call's script went, then cuts and mends.
 */
import { Redis } from 'ioredis';
import { connect } from '../../src/client';
import { AUTHKEY, startManager } from './manager';
import { startRelay, type TcpRelay } from './tcpRelay';
import { eventually } from './until';

const fast = { initialDelayMs: 20, maxDelayMs: 200, maxMs: 60_000 };

/** A manager whose store goes through a relay, a direct Redis connection, and a client. */
export interface LostReplySetUp extends AsyncDisposable {
  readonly relay: TcpRelay;
  readonly plain: Redis;
  readonly client: Awaited<ReturnType<typeof connect>>;
  readonly prefix: string;
  /** The manager's address. */
  readonly address: string;
}

/** A manager on the Redis at `redis.url` through a relay, a direct Redis connection, and a client (resumable with `resume`). */
export async function setUpLostReply(redis: { readonly url: string; prefix(): string }, resume: boolean): Promise<LostReplySetUp> {
  const store = new URL(redis.url);
  const relay = await startRelay(`${store.hostname}:${store.port}`);
  const prefix = redis.prefix();
  const manager = await startManager({ store: `redis://${relay.address}`, storePrefix: prefix });
  const plain = new Redis(redis.url);
  const client = await connect({ address: manager.address, authkey: AUTHKEY, ...(resume ? { resume: { withinMs: 30_000 }, reconnect: fast } : { reconnect: false }) });
  return {
    relay,
    plain,
    client,
    prefix,
    address: manager.address,
    async [Symbol.asyncDispose]() {
      // Whatever failed, Redis is reachable again, so that the manager can close.
      relay.releaseUpstream();
      relay.mend();
      await client.close();
      plain.disconnect();
      await manager[Symbol.asyncDispose]();
      await relay.close();
    },
  };
}

/**
 * Runs `call` while the relay holds what the manager sends from its first write holding `text` on
 * (the call's script whose reply is to be lost: a save, an acquire), then lets Redis run it while what Redis sends is
 * dropped, and cuts and mends the relay once `done` holds (Redis ran it). Returns the call.
 */
export async function withReplyLost<T>(s: { relay: TcpRelay }, text: string, call: () => Promise<T>, done: () => Promise<boolean>): Promise<T> {
  const before = s.relay.countUpstream(text);
  s.relay.holdUpstreamFrom(text);
  const made = call();
  made.catch(() => {});
  await s.relay.untilUpstream(text, before + 1);
  s.relay.dropDownstream();
  s.relay.releaseUpstream();
  await eventually('Redis ran the call', done, (ran) => ran);
  s.relay.cut();
  s.relay.mend();
  return made;
}
