/**
 * Silence detection for one connection, the same on both sides (SPEC "Recovery", `$/ping`): time
 * is cut into ticks of a quarter of the timeout; a tick in which nothing arrived counts as silent,
 * and three silent ticks in a row mean the peer is gone. The silence measured then lies between
 * three quarters of the timeout and the whole timeout, so the peer is declared gone within the
 * timeout of the last thing it sent, and a peer that answers within a tick is never.
 */

/** The server's liveness timeout unless configured (SPEC 20.1), in ms. */
export const DEFAULT_LIVENESS_TIMEOUT_MS = 30_000;

/** The client's liveness timeout unless configured, in seconds. */
export const DEFAULT_CLIENT_LIVENESS_TIMEOUT_S = 10;

/** Ticks per timeout. */
const TICKS = 4;
/** Silent ticks in a row that mean the peer is gone. */
const SILENT_TICKS = TICKS - 1;

/** Watches a connection for silence. `heard()` is called for every message: it only sets a flag. */
export class SilenceWatch {
  #heard = true;
  #silentTicks = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(
    /** The longest silence tolerated, in ms. */
    readonly timeoutMs: number,
    handlers: {
      /** Called every tick (a client sends its `$/ping` here). */
      tick?: () => void;
      /** Called once when the peer has been silent for the timeout; the watch has stopped. */
      silent: () => void;
    },
  ) {
    this.#timer = setInterval(() => {
      if (this.#heard) {
        this.#heard = false;
        this.#silentTicks = 0;
      } else if (++this.#silentTicks >= SILENT_TICKS) {
        this.stop();
        handlers.silent();
        return;
      }
      handlers.tick?.();
    }, timeoutMs / TICKS);
    // A watch alone must not keep a process alive.
    this.#timer.unref();
  }

  /** Something arrived from the peer. */
  heard(): void {
    this.#heard = true;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
