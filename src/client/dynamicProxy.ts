/**
 * Proxies for custom types: any property is a remote method of the same name, called with
 * positional arguments (and `kwargs({...})` last for keywords). Exposed names win over the proxy's
 * own members, so an object exposing `release` keeps it: release the proxy with `[releaseProxy]()`.
 */

import { BaseProxy } from './baseProxy';
import { splitArguments } from './kwargs';

/** A proxy of a custom type: every method is async. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a custom type's methods take and give what its server-side class does
export type DynamicProxy = BaseProxy & { [method: string]: (...args: any[]) => Promise<any> };

/** Wraps a base proxy so property access becomes remote calls. */
export function makeDynamicProxy(base: BaseProxy): DynamicProxy {
  const exposed = new Set(base.token.exposed);
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(base, {
    get(target, property) {
      // `await proxy` must not call a remote `then`.
      if (property === 'then') return undefined;
      if (typeof property === 'symbol' || (!exposed.has(property) && property in target)) {
        // Bound to the base proxy: its members use private fields, which a Proxy cannot reach.
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      let method = methods.get(property);
      if (!method) {
        method = (...args: unknown[]) => {
          const split = splitArguments(args);
          return target.callMethod(property, split.args, split.kwargs);
        };
        methods.set(property, method);
      }
      return method;
    },
    has(target, property) {
      return (typeof property === 'string' && exposed.has(property)) || Reflect.has(target, property);
    },
    set() {
      throw new TypeError('a proxy has no settable properties: call its methods');
    },
  }) as DynamicProxy;
}
