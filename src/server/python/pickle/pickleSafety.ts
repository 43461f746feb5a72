/**
 * What a manager serving with `--no-opaque-pickles` (the option `opaquePickles: false`) lets a
 * pickle hold: plain values, what the codec reads, and the harmless standard library classes of
 * {@link harmlessGlobal}, at any depth. Any other global is code a Python client reading the value
 * would run: the value is refused, naming that global (by the pickle reader, and for a JSON `$opaque`
 * by `server/opaquePickles.ts`).
 */

import { displayModule, harmlessGlobal } from './pickleGlobals';
import type { PickleNode } from './pickleTree';

/** The first global under `root` (itself included) that is not harmless, as `module.Name`; undefined when there is none. */
export function refusedGlobalIn(root: PickleNode): string | undefined {
  const seen = new Set<PickleNode>();
  const pending: PickleNode[] = [root];
  // Depth first, in the pickle's order, so the global named is the first the pickle makes; each node once (shared ones, cycles).
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (seen.has(node)) continue;
    seen.add(node);
    switch (node.kind) {
      case 'global':
        if (!harmlessGlobal(node.module, node.name)) return `${displayModule(node.module)}.${node.name}`;
        break;
      case 'list':
      case 'tuple':
      case 'set':
      case 'frozenset':
        for (let i = node.items.length - 1; i >= 0; i--) pending.push(node.items[i]);
        break;
      case 'dict':
        for (let i = node.keys.length - 1; i >= 0; i--) pending.push(node.values[i], node.keys[i]);
        break;
      case 'object': {
        // Pushed last to first (a mutation's items may be many: no spread of them).
        for (let m = node.after.length - 1; m >= 0; m--) {
          const mutation = node.after[m];
          if (mutation.op === 'BUILD') pending.push(mutation.state);
          else for (let i = mutation.items.length - 1; i >= 0; i--) pending.push(mutation.items[i]);
        }
        if (node.kwargs) pending.push(node.kwargs);
        pending.push(node.args, node.callee);
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}
