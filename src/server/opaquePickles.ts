/**
 * What a manager that stores no opaque pickles (`--no-opaque-pickles`) lets a JSON `$opaque` value
 * hold, a message's or a state file's: the same as a Python client's pickle
 * (`python/pickle/pickleSafety.ts`), judged by the globals its pickle holds, not by the class it
 * claims. Here, beside both sessions, so that the JSON-RPC session and the state keeper check it
 * without reaching into the Python session.
 */

import { ValueCodecError } from '../common/valueCodecError';
import type { OpaqueValue } from '../common/valueTypes';
import { opaquePickleRefused } from './limits';
import { PickleError } from './python/pickle/pickleError';
import { DEFAULT_MAX_DEPTH } from './python/pickle/pickleReader';
import { refusedGlobalIn } from './python/pickle/pickleSafety';
import { parsePickle } from './python/pickle/pickleTreeBuilder';

/**
 * What a JSON `$opaque` value (a message's, or a state file's) must pass in a manager that stores
 * no opaque pickles: a Python one whose pickle holds a global that is not harmless is refused (one
 * that cannot be read, too); other languages' opaque values are not pickles.
 * @throws ValueCodecError naming the global (or the value's class), with `{at}` for the decoder to fill in.
 */
export function refuseOpaquePickle(value: OpaqueValue): void {
  if (value.lang !== 'python') return;
  let refused: string | undefined;
  try {
    // Within the reader's own limits: a container at each level may have its MARK open.
    refused = refusedGlobalIn(parsePickle(value.data, DEFAULT_MAX_DEPTH + 1));
  } catch (error) {
    if (!(error instanceof PickleError)) throw error;
    refused = value.type;
  }
  if (refused !== undefined) throw new ValueCodecError(opaquePickleRefused(refused, ' {at}'));
}
