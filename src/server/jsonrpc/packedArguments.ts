/**
 * Parsing a JSON-RPC message whose values would cost far more built than they weigh (`[{}, {}, …]`:
 * three bytes, one object each) without building them: such an argument is kept as its JSON text
 * (`PackedJson`), so reading one message holds at most 4 times its bytes plus
 * {@link READ_BYTES_PER_MESSAGE} (SPEC §19). Ordinary messages never take this path: one count of
 * the text's containers tells that they cannot exceed the rule, and they are parsed as before.
 *
 * The values that may be kept as text are the message's "slots": each argument (`params.args[i]`),
 * each keyword argument (`params.kwargs.name`), and any other member of `params` or of the message.
 * The costliest slots are kept as text until the rest, built, fit half the allowance; the other
 * half is the envelope's, and the estimate's margin.
 */

import { jsonStructure } from '../jsonValueCount';
import { COST, JsonTextWalk, NotWalkable } from '../jsonTextWalk';
import { MAX_CALL_ARGUMENTS, READ_BYTES_PER_MESSAGE, readAllowance, tooCostlyToRead } from '../limits';
import { PackedJson } from '../packedValues';

/** Estimated heap bytes the built values of a message may cost beyond {@link KEPT_TIMES} its bytes. */
const BUDGET = READ_BYTES_PER_MESSAGE / 2;

/**
 * A value estimated to cost more than this many times its bytes built is one to keep as text. The
 * rule allows 4; the margin covers what the estimate cannot see (an array's spare capacity, the
 * heap's own layout), without which an array of small numbers, 8 bytes an item built for 2 bytes
 * of text, would sit right at the rule and cross it now and then.
 */
const KEPT_TIMES = 3;

/** The most a container is estimated to cost built (`jsonTextWalk.ts`): itself, a tag's, its item's. */
const MOST_PER_CONTAINER = 64 + 256 + 8;
/**
 * The most any other item is estimated to cost: its slot, a string's (rounded) or a boxed
 * number's header, and a set's or a Map's entry; besides, an object's member {@link COST}'s
 * `member`, and a string two bytes a character.
 */
const MOST_PER_ITEM = 8 + 24 + COST.entry;

/** The most a byte of message is estimated to cost built: `{"$set":[]},`, 12 bytes, some 400 B. */
const MOST_PER_BYTE = 40;

/** What keeping a value as text costs (its object and string headers): a value that would exceed by less stays built. */
const PACKING_COST = 128;

/** The members of a message its refusal is answered from: its version, id and method. */
const ENVELOPE_MEMBERS: ReadonlySet<string | number> = new Set(['jsonrpc', 'id', 'method']);

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/** A value of the message that may be kept as text: where it is in the text, and where in the parsed message. */
interface Slot {
  readonly start: number;
  readonly end: number;
  /** Estimated heap bytes built (high, to decide what to keep as text). */
  readonly estimate: number;
  /** Heap bytes held built, as the rule's refusal counts them (`heldBytes.ts`): strings and shapes shared with an earlier slot not counted again. */
  readonly held: number;
  /** Why it must be built whole, if it must ("a $proxy"). */
  readonly whole: string | undefined;
  /** Estimated heap bytes beyond {@link KEPT_TIMES} its bytes. */
  readonly excess: number;
  readonly packable: boolean;
  readonly path: readonly (string | number)[];
}

/**
 * The parsed message, with its costliest values kept as text; undefined when nothing needs to be
 * (the message is parsed as usual then, and any fault in it reported as usual).
 */
export function parseDenseMessage(body: string): unknown {
  // Each character costs at most MOST_PER_BYTE built: a short message cannot exceed the rule.
  if (body.length * (MOST_PER_BYTE - KEPT_TIMES) <= BUDGET) return undefined;
  // Nor can one with few containers: bounded from its counts, before any walk.
  const { containers, commas, members } = jsonStructure(body);
  if (containers * MOST_PER_CONTAINER + (commas + 1) * MOST_PER_ITEM + members * COST.member <= (KEPT_TIMES - 2) * body.length + BUDGET) return undefined;
  let slots: Slot[];
  let superseded: Slot[];
  try {
    [slots, superseded] = slotsOf(body);
  } catch {
    // Anything the walk does not follow (NotWalkable, or a fault of its own) is left to the parser, which reads every message.
    return undefined;
  }
  let over = -BUDGET;
  for (const slot of slots) over += Math.max(0, slot.excess);
  const chosen: Slot[] = [];
  for (const slot of slots.filter((s) => s.packable && s.excess > PACKING_COST).sort((a, b) => b.excess - a.excess)) {
    if (over <= 0) break;
    chosen.push(slot);
    over -= slot.excess;
  }
  // Whatever was kept as text, what is built must be within the rule.
  refuseBeyondRule(body, slots, chosen, superseded);
  if (chosen.length === 0) return undefined;
  const message = withZerosFor(body, [...chosen, ...superseded]);
  if (message === undefined) return undefined;
  const copier = new JsonTextWalk(body);
  for (const slot of chosen) {
    copier.at = slot.start;
    copier.reset(true);
    copier.value();
    place(message, slot.path, new PackedJson(copier.copied()));
  }
  return message;
}

/**
 * A message that would hold more than the rule allows once read (what it keeps as text costs about
 * its length): the message's envelope, to answer it, and the refusal.
 */
export class MessageTooCostly extends Error {
  constructor(
    message: string,
    /** The message with each of its values but its id, method and version as 0, to check and answer as usual. */
    readonly envelope: unknown,
  ) {
    super(message);
  }
}

/**
 * @throws MessageTooCostly when what stays built (values the walk could not keep as text, or too
 * small to be worth it) passes the rule, counted as they hold once built.
 */
function refuseBeyondRule(body: string, slots: readonly Slot[], chosen: readonly Slot[], superseded: readonly Slot[]): void {
  const kept = new Set(chosen);
  const built = slots.filter((s) => !kept.has(s));
  let held = 0;
  for (const slot of chosen) held += PACKING_COST + (slot.end - slot.start);
  held += heldOf(body, built, chosen.length > 0 || superseded.length > 0);
  // The rule is in the message's bytes as sent (UTF-8), not its characters.
  const bytes = Buffer.byteLength(body);
  if (held <= readAllowance(bytes)) return;
  // Each argument is built (none is worth keeping as text): the call's own check refuses so many, naming their number.
  if (slots.filter((s) => s.path[1] === 'args' || s.path[1] === 'kwargs').length > MAX_CALL_ARGUMENTS) return;
  // What the refusal is answered from: the members it needs, every other value 0, so that nothing the rule refused is built.
  const envelope = withZerosFor(body, [...slots, ...superseded].filter((s) => !ENVELOPE_MEMBERS.has(s.path[0])));
  const whole = [...new Set(built.map((s) => s.whole).filter((why) => why !== undefined))];
  const why = whole.length > 0 ? `a value holding ${whole.join(', or ')} is built whole; send the dense part as an argument of its own` : 'its values are each too small to keep as text, and are built; send them as fewer, larger arguments';
  throw new MessageTooCostly(tooCostlyToRead(bytes, held, why), envelope);
}

/**
 * What the `built` slots hold once built. Their walk's counts when every slot of the message is
 * built (a string or shape each counted in the first slot holding it); else walked again alone, so
 * that one first met in a slot kept as text, or superseded, is counted where it is built.
 */
function heldOf(body: string, built: readonly Slot[], walkAgain: boolean): number {
  let held = 0;
  if (!walkAgain) {
    for (const slot of built) held += slot.held;
    return held;
  }
  const walk = new JsonTextWalk(body);
  for (const slot of built) {
    walk.at = slot.start;
    walk.reset();
    walk.value();
    held += walk.held;
  }
  return held;
}

/** The message parsed with a 0 where each of `slots` (in order) was: small, parsed as usual; undefined if it does not parse. */
function withZerosFor(body: string, slots: readonly Slot[]): unknown {
  const pieces: string[] = [];
  let from = 0;
  for (const slot of [...slots].sort((a, b) => a.start - b.start)) {
    pieces.push(body.slice(from, slot.start), '0');
    from = slot.end;
  }
  pieces.push(body.slice(from));
  try {
    return JSON.parse(pieces.join(''));
  } catch {
    return undefined;
  }
}

/**
 * The message's slots, walking its text once, and those a member of the same name given again
 * supersedes (the parser keeps the last one). @throws NotWalkable for anything but one JSON object.
 */
function slotsOf(body: string): [Slot[], Slot[]] {
  const walk = new JsonTextWalk(body);
  const walked: Slot[] = [];
  // By their index in `walked`: a set, so that a slot superseded at two levels (a kwarg given twice in a params given twice) counts once.
  const superseded = new Set<number>();
  const slot = (path: readonly (string | number)[]): void => {
    walk.reset();
    const start = walk.at;
    walk.value();
    walked.push({ start, end: walk.at, estimate: walk.estimate, held: walk.held, whole: walk.whole, excess: walk.estimate - KEPT_TIMES * (walk.at - start), packable: walk.packable, path });
  };
  /** An object's members, each walked by `visit`: the slots a member's value made are superseded when its name is given again, each looked at once however many names repeat. */
  const members = (visit: (key: string) => void): void => {
    const made = new Map<string, { from: number; to: number }>();
    eachMember(walk, (key) => {
      const before = made.get(key);
      if (before) for (let i = before.from; i < before.to; i++) superseded.add(i);
      const from = walked.length;
      visit(key);
      made.set(key, { from, to: walked.length });
    });
  };
  members((key) => {
    if (key !== 'params' || walk.peek() !== OPEN_BRACE) return slot([key]);
    members((name) => {
      if (name === 'args' && walk.peek() === OPEN_BRACKET) return items(walk, (i) => slot(['params', 'args', i]));
      if (name === 'kwargs' && walk.peek() === OPEN_BRACE) return members((keyword) => slot(['params', 'kwargs', keyword]));
      slot(['params', name]);
    });
  });
  walk.skipSpace();
  if (walk.at !== body.length) throw new NotWalkable();
  return [walked.filter((_, i) => !superseded.has(i)), walked.filter((_, i) => superseded.has(i))];
}

/** Walks an object's members, each value by `visit` (a name given again is visited again: the caller supersedes what it made). */
function eachMember(walk: JsonTextWalk, visit: (key: string) => void): void {
  walk.expect(OPEN_BRACE);
  if (walk.peek() === 0x7d) return void walk.at++;
  for (;;) {
    walk.skipSpace();
    const key = walk.key();
    walk.expect(0x3a);
    visit(key);
    const c = walk.peek();
    walk.at++;
    if (c === 0x7d) return;
    if (c !== 0x2c) throw new NotWalkable();
  }
}

/** Walks an array's items, each by `visit`. */
function items(walk: JsonTextWalk, visit: (index: number) => void): void {
  walk.expect(OPEN_BRACKET);
  if (walk.peek() === 0x5d) return void walk.at++;
  for (let i = 0; ; i++) {
    visit(i);
    const c = walk.peek();
    walk.at++;
    if (c === 0x5d) return;
    if (c !== 0x2c) throw new NotWalkable();
  }
}

/** Puts `value` at `path` of the parsed message (an own member even when named `__proto__`). */
function place(message: unknown, path: readonly (string | number)[], value: unknown): void {
  let target = message as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) target = target[path[i]] as Record<string | number, unknown>;
  Object.defineProperty(target, path[path.length - 1], { value, enumerable: true, writable: true, configurable: true });
}
