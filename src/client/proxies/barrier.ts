/** The Barrier proxy. */

import { BaseProxy } from '../baseProxy';
import { timeoutArgs, type WaitOptions } from './options';

/** A shared `threading.Barrier`: `parties` waiters are let through together. */
export class BarrierProxy extends BaseProxy {
  /**
   * Waits until `parties` waiters have arrived; returns this waiter's index (0 to parties-1,
   * different for each). A timeout breaks the barrier: this and every other waiter get
   * RemoteError BrokenBarrierError, as does every wait until `reset`.
   */
  async wait(options?: WaitOptions): Promise<number> {
    return (await this.callMethod('wait', timeoutArgs(options), undefined, options)) as number;
  }

  /** Breaks the barrier: current and later waits fail with BrokenBarrierError until `reset`. */
  async abort(): Promise<void> {
    await this.callMethod('abort');
  }

  /** Back to the initial state; current waiters fail with BrokenBarrierError. */
  async reset(): Promise<void> {
    await this.callMethod('reset');
  }

  /** How many waiters it lets through together. */
  async parties(): Promise<number> {
    return (await this.callMethod('__getattribute__', ['parties'])) as number;
  }

  /** How many are waiting now. */
  async nWaiting(): Promise<number> {
    return (await this.callMethod('__getattribute__', ['n_waiting'])) as number;
  }

  /** Whether it is broken (by a timeout or `abort`). */
  async broken(): Promise<boolean> {
    return (await this.callMethod('__getattribute__', ['broken'])) as boolean;
  }
}
