/**
 * Dicts of str keys built as compact records. A record built key by key from `{}` keeps room for
 * four members however few it has (`{'name': 'x', 'n': 1}`: 56 bytes); one cloned from a record of
 * the same keys that `JSON.parse` made holds a slot a member and no more (40 bytes), as the JSON
 * reader's records do. So a pickled list of small dicts holds no more than its JSON twin, within
 * the read rule (SPEC §19).
 */

import { DICTIONARY_FROM, HELD_BYTES, recordBytes } from '../../heldBytes';

/** Most keys a record is cloned for: from here on V8 keeps it as a table whichever way it is built. */
const MOST_KEYS = DICTIONARY_FROM.assigned - 1;

/** Makes records of the key sequences one message's dicts have, each from a template made once per sequence. */
export class RecordTemplates {
  /** Each key sequence's template (by the sequence as JSON), or null when it has a key given twice. */
  readonly #templates = new Map<string, Record<string, unknown> | null>();

  /**
   * A new record holding exactly these keys (each to be set, in order, by the caller), or undefined
   * when it cannot be made so (a key given twice, too many keys, a key named `__proto__`).
   * The second result is what a template made now holds (0 when it was made before).
   */
  make(keys: readonly string[]): [Record<string, unknown> | undefined, number] {
    if (keys.length === 0 || keys.length > MOST_KEYS) return [undefined, 0];
    const name = JSON.stringify(keys);
    let template = this.#templates.get(name);
    let made = 0;
    if (template === undefined) {
      const parsed = keys.includes('__proto__') ? null : (JSON.parse(`{${keys.map((key) => `${JSON.stringify(key)}:null`).join(',')}}`) as Record<string, unknown>);
      template = parsed !== null && Object.keys(parsed).length === keys.length ? parsed : null;
      this.#templates.set(name, template);
      made = recordBytes(keys.length, 'parsed') + keys.length * HELD_BYTES.slot;
    }
    return [template === null ? undefined : { ...template }, made];
  }
}
