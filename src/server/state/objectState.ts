/**
 * One built-in object's contents as a state file keeps them, and back: what `serve --state` saves
 * of each shared object on a clean shutdown and restores on start.
 *
 * Data is saved: queue items in get order (with the unfinished count `join` waits on), dict
 * entries, list items, set members, Namespace attributes, a Value's value, an Array's items, and
 * an Event's flag (a "ready" or "stop" flag is data). The state of Lock, RLock, Semaphore,
 * BoundedSemaphore, Condition and Barrier is not data: it belongs to the sessions holding or
 * waiting on them, which a restart ends, so they start released. Values are written in the
 * protocol's value encoding (SPEC 11), so pickled Python objects are kept byte for byte. A value
 * that holds a reference to a shared object cannot outlive the server run and is left out, named
 * in the list of what was not saved.
 */

import { decodeValue, encodeValue, type DecodeOptions, type ProxyCodec } from '../../common/valueCodec';
import { ValueCodecError } from '../../common/valueCodecError';
import { Slice } from '../../common/valueTypes';
import { PyArray, Dict, Event, List, Namespace, PySet, Queue, Value } from '../builtins';
import { SharedRef } from '../calls/sharedRef';
import { refuseOpaquePickle } from '../opaquePickles';

/** The saved form of one object; values are in the protocol's value encoding. */
export type SavedObject =
  | { type: 'Queue' | 'LifoQueue' | 'PriorityQueue'; items: unknown[]; unfinished: number }
  | { type: 'dict'; entries: [unknown, unknown][] }
  | { type: 'list'; items: unknown[] }
  | { type: 'set'; members: unknown[] }
  | { type: 'Namespace'; attributes: Record<string, unknown> }
  | { type: 'Value'; value: unknown }
  | { type: 'Array'; typecode: string; items: unknown[] }
  | { type: 'Event'; set: boolean };

/** The built-in types whose contents are saved. */
export const SAVED_TYPES: readonly SavedObject['type'][] = ['Queue', 'LifoQueue', 'PriorityQueue', 'dict', 'list', 'set', 'Namespace', 'Value', 'Array', 'Event'];

/** What saving one object gave: its saved form (undefined when it has no data), and what was left out. */
export interface Capture {
  saved?: SavedObject;
  /** One line per value left out: where it was and why. */
  skipped: string[];
}

/** The built-in type name of an object (`Queue`, `dict`, ...), or undefined for other objects. */
export function builtinName(obj: object): string | undefined {
  const name = (obj.constructor as { builtin?: unknown } | undefined)?.builtin;
  return typeof name === 'string' ? name : undefined;
}

/** A value that cannot be saved, with the reason. */
class NotSaved extends Error {}

const savingCodec: ProxyCodec = {
  encodeProxy(value) {
    if (value instanceof SharedRef) throw new NotSaved(`it holds a reference to a shared ${builtinName(value.obj) ?? 'object'}, which does not outlive the server run`);
    return undefined;
  },
};

const loadingCodec: DecodeOptions = {
  boxFloats: true,
  decodeProxy() {
    throw new ValueCodecError('a $proxy {at}: a state file holds no references to shared objects');
  },
};

/**
 * The same, for a manager that stores no opaque pickles: a state file must not bring them back
 * either. Its values were checked within the limit of the manager that took them, whatever it was:
 * read here without one, so that a manager can restart from what it saved.
 */
const loadingWithoutOpaquePickles: DecodeOptions = { ...loadingCodec, checkOpaque: (value) => refuseOpaquePickle(value, Number.POSITIVE_INFINITY) };

/** Encodes values one by one; those that cannot be saved are named in `skipped` and left out. */
function encodeEach<T>(values: Iterable<T>, where: (value: T, index: number) => string, encode: (value: T) => unknown, skipped: string[]): unknown[] {
  const out: unknown[] = [];
  let index = 0;
  for (const value of values) {
    try {
      out.push(encode(value));
    } catch (error) {
      skipped.push(`${where(value, index)}: ${error instanceof NotSaved ? error.message : `cannot be encoded (${(error as Error).message})`}`);
    }
    index++;
  }
  return out;
}

const save = (value: unknown) => encodeValue(value, savingCodec);

/** The saved form of a built-in object's contents; undefined `saved` for one whose state is not data (a Lock). */
export function captureObject(obj: object): Capture {
  const skipped: string[] = [];
  const item = (_: unknown, i: number) => `item ${i}`;
  if (obj instanceof Queue) {
    const type = builtinName(obj) as 'Queue' | 'LifoQueue' | 'PriorityQueue';
    return { saved: { type, items: encodeEach(obj.contentsToSave(), item, save, skipped), unfinished: obj.unfinishedTasks }, skipped };
  }
  if (obj instanceof Dict) {
    const entries = encodeEach(obj.entries(), ([k]) => `key ${describe(k)}`, ([k, v]) => [save(k), save(v)], skipped) as [unknown, unknown][];
    return { saved: { type: 'dict', entries }, skipped };
  }
  if (obj instanceof List) return { saved: { type: 'list', items: encodeEach(obj.snapshot(), item, save, skipped) }, skipped };
  if (obj instanceof PySet) return { saved: { type: 'set', members: encodeEach(obj.snapshot(), (m) => `member ${describe(m)}`, save, skipped) }, skipped };
  if (obj instanceof Namespace) {
    const attributes: Record<string, unknown> = {};
    encodeEach(Object.entries(obj.snapshot()), ([name]) => `attribute ${name}`, ([name, value]) => define(attributes, name, save(value)), skipped);
    return { saved: { type: 'Namespace', attributes }, skipped };
  }
  if (obj instanceof Value) {
    const [value] = encodeEach([obj.get()], () => 'its value', save, skipped);
    return { saved: skipped.length ? undefined : { type: 'Value', value }, skipped };
  }
  if (obj instanceof PyArray) return { saved: { type: 'Array', typecode: obj.typecode, items: obj.snapshot().map(save) }, skipped };
  if (obj instanceof Event) return { saved: { type: 'Event', set: obj.is_set() }, skipped };
  return { skipped };
}

/** A key or member, briefly, for a warning. */
function describe(value: unknown): string {
  try {
    const text = JSON.stringify(encodeValue(value, { encodeProxy: (v) => (v instanceof SharedRef ? { id: '?', typeid: builtinName(v.obj) ?? 'object', exposed: [] } : undefined) }));
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return '(a value)';
  }
}

/** Sets a member even when it is named `__proto__`. */
function define(out: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
}

/** Thrown for a saved object whose form is wrong; the message says what, without the object's name. */
export class SavedObjectError extends Error {}

/** Whether a parsed JSON value is an object (not an array, not null). */
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the shape of a saved object read from a file. @throws SavedObjectError naming what is wrong. */
export function checkSavedObject(json: unknown): SavedObject {
  if (!isRecord(json)) throw new SavedObjectError('is not a JSON object');
  const { type } = json;
  if (typeof type !== 'string' || !(SAVED_TYPES as readonly string[]).includes(type)) {
    throw new SavedObjectError(`has type ${JSON.stringify(type)}; expected one of ${SAVED_TYPES.join(', ')}`);
  }
  const needArray = (field: string) => {
    if (!Array.isArray(json[field])) throw new SavedObjectError(`(a ${type}) needs "${field}" as an array`);
  };
  switch (type) {
    case 'Queue':
    case 'LifoQueue':
    case 'PriorityQueue':
      needArray('items');
      if (!Number.isSafeInteger(json.unfinished) || (json.unfinished as number) < 0) throw new SavedObjectError(`(a ${type}) needs "unfinished" as a whole number of at least 0`);
      break;
    case 'dict':
      needArray('entries');
      if ((json.entries as unknown[]).some((e) => !Array.isArray(e) || e.length !== 2)) throw new SavedObjectError('(a dict) needs "entries" as [key, value] pairs');
      break;
    case 'list':
    case 'Array':
      needArray('items');
      if (type === 'Array' && typeof json.typecode !== 'string') throw new SavedObjectError('(an Array) needs "typecode" as a string');
      break;
    case 'set':
      needArray('members');
      break;
    case 'Namespace':
      if (!isRecord(json.attributes)) throw new SavedObjectError('(a Namespace) needs "attributes" as an object');
      break;
    case 'Value':
      if (!('value' in json)) throw new SavedObjectError('(a Value) needs "value"');
      break;
    case 'Event':
      if (typeof json.set !== 'boolean') throw new SavedObjectError('(an Event) needs "set" as true or false');
      break;
  }
  return json as SavedObject;
}

/** Why a saved object does not fit the object registered under its typeid now (undefined when it fits). */
export function mismatch(saved: SavedObject, obj: object): string | undefined {
  const name = builtinName(obj);
  if (name !== saved.type) return `it was saved as a ${saved.type} and is now ${name ? `a ${name}` : 'not a built-in object'}`;
  if (saved.type === 'Array' && (obj as PyArray).typecode !== saved.typecode) {
    return `it was saved as an Array of typecode '${saved.typecode}' and is now one of typecode '${(obj as PyArray).typecode}'`;
  }
  return undefined;
}

/**
 * Prepares putting a saved object's contents into `obj` (which {@link mismatch} accepted): decodes
 * every value and tries them on a scratch object of the same type, so a value `obj` would refuse
 * (a key that cannot be hashed, PriorityQueue items that cannot be ordered) fails here, before
 * anything changed. The returned function then replaces `obj`'s contents and cannot fail. With
 * `opaquePickles: false` (the manager's option) a Python `$opaque` value is refused too.
 * @throws Error naming what was refused.
 */
export function prepareRestore(saved: SavedObject, obj: object, { opaquePickles = true } = {}): () => void {
  const codec = opaquePickles ? loadingCodec : loadingWithoutOpaquePickles;
  const load = (value: unknown) => decodeValue(value, codec);
  let apply: (target: object) => void;
  let scratch: object;
  switch (saved.type) {
    case 'Queue':
    case 'LifoQueue':
    case 'PriorityQueue': {
      const items = saved.items.map(load);
      apply = (target) => (target as Queue).restoreContents(items, saved.unfinished);
      scratch = new (obj.constructor as typeof Queue)(0);
      break;
    }
    case 'dict': {
      const entries = saved.entries.map(([k, v]) => [load(k), load(v)] as const);
      apply = (target) => {
        (target as Dict).clear();
        for (const [k, v] of entries) (target as Dict).__setitem__(k, v);
      };
      scratch = new Dict();
      break;
    }
    case 'list': {
      const items = saved.items.map(load);
      apply = (target) => {
        (target as List).clear();
        (target as List).extend(items);
      };
      scratch = new List();
      break;
    }
    case 'set': {
      const members = saved.members.map(load);
      apply = (target) => {
        (target as PySet).clear();
        for (const m of members) (target as PySet).add(m);
      };
      scratch = new PySet();
      break;
    }
    case 'Namespace': {
      const attributes = Object.entries(saved.attributes).map(([name, value]) => [name, load(value)] as const);
      apply = (target) => {
        const ns = target as Namespace;
        for (const name of Object.keys(ns.snapshot())) ns.__delattr__(name);
        for (const [name, value] of attributes) ns.__setattr__(name, value);
      };
      scratch = new Namespace();
      break;
    }
    case 'Value': {
      const value = load(saved.value);
      apply = (target) => void (target as Value).set(value);
      scratch = new Value((obj as Value).typecode, null);
      break;
    }
    case 'Array': {
      const items = saved.items.map(load);
      apply = (target) => void (target as PyArray).__setitem__(new Slice(), items);
      scratch = new PyArray(saved.typecode);
      break;
    }
    case 'Event':
      apply = (target) => void (saved.set ? (target as Event).set() : (target as Event).clear());
      scratch = new Event();
      break;
  }
  apply(scratch);
  return () => apply(obj);
}
