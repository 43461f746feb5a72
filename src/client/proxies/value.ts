/** The Value proxy. */

import { BaseProxy } from '../baseProxy';

/** A shared value (Python's `manager.Value(typecode, value)`). */
export class ValueProxy<T = unknown> extends BaseProxy {
  async get(): Promise<T> {
    return (await this.callMethod('get')) as T;
  }

  async set(value: T): Promise<void> {
    await this.callMethod('set', [value]);
  }
}
