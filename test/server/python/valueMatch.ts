/**
 * Comparing what the pickle reader gives with what a test expects, knowing the value model:
 * tuples are not lists, a Float box is not a number, sets match whatever their order, a
 * PyExceptionValue's module may be named the Python 2 or 3 way.
 */
import { Float, FrozenSet, isTuple, OpaqueValue, Slice } from '../../../src/common/valueTypes';
import { exceptionClassFor } from '../../../src/server/python/pickle/pickleGlobals';
import { PyExceptionValue, PyProxy, PyToken } from '../../../src/server/python/pickle/pickleValues';

function show(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `<bytes ${Buffer.from(x).toString('hex')}>` : x))?.slice(0, 200) ?? String(v);
  } catch {
    return String(v);
  }
}

function plain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The first difference between an expected and an actual value, or undefined when they match. */
export function mismatch(expected: unknown, actual: unknown, path = '$'): string | undefined {
  const differ = (why: string) => `${path}: ${why}: expected ${show(expected)}, got ${show(actual)}`;
  switch (typeof expected) {
    case 'number':
      if (Number.isNaN(expected)) return typeof actual === 'number' && Number.isNaN(actual) ? undefined : differ('NaN expected');
      return typeof actual === 'number' && Object.is(actual, expected) ? undefined : differ('number differs');
    case 'bigint':
    case 'string':
    case 'boolean':
      return actual === expected ? undefined : differ(`${typeof expected} differs`);
    case 'undefined':
      return actual === undefined ? undefined : differ('undefined expected');
  }
  if (expected === null) return actual === null ? undefined : differ('null expected');
  if (expected instanceof Float) {
    if (!(actual instanceof Float)) return differ('a Float box expected');
    return Object.is(actual.value, expected.value) || (Number.isNaN(actual.value) && Number.isNaN(expected.value)) ? undefined : differ('Float differs');
  }
  if (expected instanceof Uint8Array) {
    return actual instanceof Uint8Array && Buffer.from(actual).equals(Buffer.from(expected)) ? undefined : differ('bytes differ');
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return differ('an array expected');
    if (isTuple(expected) !== isTuple(actual)) return differ(isTuple(expected) ? 'a tuple expected' : 'a list expected');
    if (actual.length !== expected.length) return differ('lengths differ');
    for (let i = 0; i < expected.length; i++) {
      const m = mismatch(expected[i], actual[i], `${path}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (expected instanceof Set) {
    if (!(actual instanceof Set) || expected instanceof FrozenSet !== actual instanceof FrozenSet) return differ(expected instanceof FrozenSet ? 'a FrozenSet expected' : 'a Set expected');
    if (actual.size !== expected.size) return differ('sizes differ');
    // In order first (ours keep it); else in any order (Python's sets have their own).
    if (mismatch([...expected], [...actual]) === undefined) return undefined;
    const left = [...actual];
    for (const member of expected) {
      const i = left.findIndex((m) => mismatch(member, m) === undefined);
      if (i < 0) return differ(`member ${show(member)} missing`);
      left.splice(i, 1);
    }
    return undefined;
  }
  if (expected instanceof Map) {
    if (!(actual instanceof Map)) return differ('a Map expected');
    if (actual.size !== expected.size) return differ('sizes differ');
    if (mismatch([...expected].flat(), [...actual].flat(), path) === undefined) return undefined;
    for (const [k, v] of expected) {
      const keys = [...actual.keys()];
      const i = keys.findIndex((a) => mismatch(k, a) === undefined);
      if (i < 0) return differ(`key ${show(k)} missing`);
      const m = mismatch(v, actual.get(keys[i]), `${path}[${show(k)}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (expected instanceof Slice) {
    if (!(actual instanceof Slice)) return differ('a Slice expected');
    return mismatch([expected.start, expected.stop, expected.step], [actual.start, actual.stop, actual.step], path);
  }
  if (expected instanceof PyToken) {
    if (!(actual instanceof PyToken)) return differ('a PyToken expected');
    return mismatch([expected.typeid, expected.address, expected.id], [actual.typeid, actual.address, actual.id], `${path}.token`);
  }
  if (expected instanceof PyProxy) {
    if (!(actual instanceof PyProxy)) return differ('a PyProxy expected');
    if (actual.proxyType !== expected.proxyType || actual.proxyModule !== expected.proxyModule || actual.serializer !== expected.serializer) return differ('proxy type differs');
    if (show(actual.exposed) !== show(expected.exposed)) return differ('exposed differs');
    return mismatch(expected.token, actual.token, path);
  }
  if (expected instanceof PyExceptionValue) {
    if (!(actual instanceof PyExceptionValue)) return differ('a PyExceptionValue expected');
    const want = exceptionClassFor(expected.module, expected.name, 'py3').join('.');
    const got = exceptionClassFor(actual.module, actual.name, 'py3').join('.');
    if (want !== got) return differ(`exception class ${got} is not ${want}`);
    return mismatch([...expected.args], [...actual.args], `${path}.args`) ?? (expected.state === undefined ? undefined : mismatch(expected.state, actual.state, `${path}.state`));
  }
  if (expected instanceof OpaqueValue) {
    return actual instanceof OpaqueValue && actual.type === expected.type && actual.lang === expected.lang ? undefined : differ('an OpaqueValue of that type expected');
  }
  if (plain(expected)) {
    if (!plain(actual)) return differ('a plain object expected');
    const keys = Object.keys(expected).sort();
    if (keys.join('\n') !== Object.keys(actual).sort().join('\n')) return differ('keys differ');
    for (const k of keys) {
      const m = mismatch(Object.getOwnPropertyDescriptor(expected, k)!.value, Object.getOwnPropertyDescriptor(actual, k)?.value, `${path}.${k}`);
      if (m) return m;
    }
    return undefined;
  }
  return differ('unexpected kind of expectation');
}
