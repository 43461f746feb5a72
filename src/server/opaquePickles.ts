/**
 * What a manager that stores no opaque pickles (`--no-opaque-pickles`) lets a JSON `$opaque` value
 * hold, a message's or a state file's: the same as a Python client's pickle
 * (`python/pickle/pickleSafety.ts`), judged by the globals its pickle makes, not by the class it
 * claims. Here, beside both sessions, so that the JSON-RPC session and the state keeper check it
 * without reaching into the Python session.
 */

import { ValueCodecError } from '../common/valueCodecError';
import type { OpaqueValue } from '../common/valueTypes';
import { opaquePickleRefused, opaquePickleUnreadable } from './limits';
import { PickleError } from './python/pickle/pickleError';
import { displayModule, harmlessGlobal } from './python/pickle/pickleGlobals';
import { DEFAULT_MAX_DEPTH } from './python/pickle/pickleReader';
import { parsePickle } from './python/pickle/pickleTreeBuilder';

/**
 * What a JSON `$opaque` value (a message's, or a state file's) must pass in a manager that stores
 * no opaque pickles: a Python one whose pickle makes a global that is not harmless is refused,
 * naming it. Every global the pickle makes counts, not only those its value holds: unpickling runs
 * a call it pops, leaves under its result or only memoizes, and these bytes are stored as they came.
 * One that cannot be read within `maxValues` (the manager's value limit; a state file's, none) is
 * refused too, saying why. Other languages' opaque values are not pickles.
 * @throws ValueCodecError naming the global (or the value's class and what is wrong), with `{at}` for the decoder to fill in.
 */
export function refuseOpaquePickle(value: OpaqueValue, maxValues: number): void {
  if (value.lang !== 'python') return;
  let refused: string | undefined;
  const seeGlobal = (module: string, name: string): void => {
    if (refused === undefined && !harmlessGlobal(module, name)) refused = `${displayModule(module)}.${name}`;
  };
  try {
    // Within the reader's own limits: a container at each level may have its MARK open.
    parsePickle(value.data, DEFAULT_MAX_DEPTH + 1, maxValues, seeGlobal);
  } catch (error) {
    if (!(error instanceof PickleError)) throw error;
    // A global made before the pickle went wrong is the clearer refusal.
    if (refused === undefined) throw new ValueCodecError(opaquePickleUnreadable(value.type, error.message, ' {at}'));
  }
  if (refused !== undefined) throw new ValueCodecError(opaquePickleRefused(refused, ' {at}'));
}
