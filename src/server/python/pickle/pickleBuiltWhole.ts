/**
 * What a pickle read whole was seen to hold that made it so, for a refusal past the read rule to
 * name (SPEC §19), as the JSON reader's refusal names what it built whole: the message's own
 * reasons, not every reason there may be.
 */

import { BUILT_WHOLE } from './pickleToValue';

/** The reasons one pickle's readers (value builder, tree builder, tree path) noted, in the order met. */
export class BuiltWhole {
  readonly #seen = new Set<string>();

  /** Notes that the pickle holds `what` (`a proxy`, `an object of datetime.datetime`...). */
  note(what: string): void {
    this.#seen.add(what);
  }

  /** Why the pickle was built whole: what was noted, and its protocol if below 2; every reason there may be when nothing was noted yet. */
  why(protocol: number): string {
    const parts: string[] = [];
    if (this.#seen.size > 0) parts.push(`a value holding ${[...this.#seen].join(', or ')}`);
    if (protocol < 2) parts.push('any value of a pickle in protocol 0 or 1');
    return parts.length > 0 ? `${parts.join(', and ')} is built whole; send the dense part as an argument of its own` : BUILT_WHOLE;
  }
}
