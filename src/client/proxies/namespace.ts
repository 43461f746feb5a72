/** The Namespace proxy. */

import { BaseProxy } from '../baseProxy';

/** A shared namespace: named attributes. */
export class NamespaceProxy extends BaseProxy {
  /** An attribute's value; AttributeError if it has none. */
  async get<T = unknown>(name: string): Promise<T> {
    return (await this.callMethod('__getattribute__', [name])) as T;
  }

  async set(name: string, value: unknown): Promise<void> {
    await this.callMethod('__setattr__', [name, value]);
  }

  async delete(name: string): Promise<void> {
    await this.callMethod('__delattr__', [name]);
  }
}
