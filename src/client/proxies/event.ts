/** The Event proxy. */

import { BaseProxy } from '../baseProxy';
import { timeoutArgs, type WaitOptions } from './options';

/** A shared `threading.Event`: a flag clients wait for. */
export class EventProxy extends BaseProxy {
  async isSet(): Promise<boolean> {
    return (await this.callMethod('is_set')) as boolean;
  }

  /** Sets the flag and wakes every waiter. */
  async set(): Promise<void> {
    await this.callMethod('set');
  }

  /** Clears the flag: later waits block until the next `set`. */
  async clear(): Promise<void> {
    await this.callMethod('clear');
  }

  /** Waits until the flag is set; true once it is, false if the timeout passed first. */
  async wait(options?: WaitOptions): Promise<boolean> {
    return (await this.callMethod('wait', timeoutArgs(options), undefined, options)) as boolean;
  }
}
