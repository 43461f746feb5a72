/**
 * The fuzz tests' seeded randomness: a mulberry32 generator and the draws the tests need (ints,
 * picks, bytes, awkward strings, random JSON). Every run has one base seed, printed in every
 * failure; set `FUZZ_SEED` to replay a run:
 *
 *   FUZZ_SEED=1234 npm test -- fuzz
 *
 * and `FUZZ_SCALE` to run longer (see {@link FUZZ_SCALE}).
 *
 * Each test and each fuzz connection derives its own seed from the base seed and its name, so a
 * test replays the same inputs whatever else ran before it.
 */

import type { TestContext } from 'node:test';

/** Parses `FUZZ_SEED` (decimal or 0x hex); a fresh random seed when unset. */
function baseSeedFromEnv(): number {
  const text = process.env.FUZZ_SEED?.trim();
  if (text) {
    const n = Number(text);
    if (!Number.isFinite(n)) throw new Error(`FUZZ_SEED=${JSON.stringify(text)} is not a number`);
    return n >>> 0;
  }
  return (Math.random() * 2 ** 32) >>> 0;
}

/** The run's base seed. */
export const BASE_SEED: number = baseSeedFromEnv();

/**
 * `FUZZ_SCALE` (default 1) multiplies every fuzz loop's case count and time budget, for a longer
 * hunt by hand (`FUZZ_SCALE=20 npm test -- fuzz`); the default keeps each file well under 20 s.
 */
export const FUZZ_SCALE: number = (() => {
  const text = process.env.FUZZ_SCALE?.trim();
  const n = text ? Number(text) : 1;
  if (!(n > 0 && n <= 1000)) throw new Error(`FUZZ_SCALE=${JSON.stringify(text)} must be a number in (0, 1000]`);
  return n;
})();

/** A count or a time budget, scaled by FUZZ_SCALE. */
export function scaled(n: number): number {
  return Math.max(1, Math.round(n * FUZZ_SCALE));
}

/** FNV-1a of a string, for deriving seeds from names. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seed for one named test or connection, derived from the base seed. */
export function seedFor(name: string): number {
  return (hashString(name) ^ Math.imul(BASE_SEED, 0x9e3779b1)) >>> 0;
}

/** What to put in a failure message so it can be replayed. */
export function replayHint(what: string): string {
  return `[${what}; base seed ${BASE_SEED}; replay with FUZZ_SEED=${BASE_SEED} npm test -- fuzz]`;
}

/** Prefixes an error's message with the replay hint (keeps assertion details). */
export function withSeed<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw annotate(error, what);
  }
}

/** Async {@link withSeed}. */
export async function withSeedAsync<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw annotate(error, what);
  }
}

function annotate(error: unknown, what: string): Error {
  if (error instanceof Error) {
    error.message = `${replayHint(what)} ${error.message}`;
    return error;
  }
  return new Error(`${replayHint(what)} ${String(error)}`);
}

/** Shortens a value's display for failure messages; never throws, whatever the value. */
export function show(value: unknown, max = 300): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'bigint' ? `${v}n`
      : typeof v === 'number' && !Number.isFinite(v) ? `<${v}>`
      : typeof v === 'number' && Object.is(v, -0) ? '<-0>'
      : v instanceof Uint8Array ? `<bytes ${Buffer.from(v).toString('hex')}>`
      : v);
  } catch {
    // A cycle, or a toJSON that throws: fall back to the plain form below.
  }
  if (text === undefined) {
    try {
      text = String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

/** Strings chosen to break things: prototype names, tag look-alikes, surrogates, controls. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  '$',
  '$bytes',
  '$int',
  '$float',
  '$tuple',
  '$dict',
  '$proxy',
  '$opaque',
  '$x',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'then',
  '0',
  '-1',
  '1e3',
  'NaN',
  'null',
  'undefined',
  '\u0000',
  '\uD800',
  '\uDFFF',
  'a\uDC00b',
  '\uD83D\uDE00',
  '👩‍👩‍👧',
  '\u2028\u2029',
  '\uFEFF',
  '\r\n\r\n',
  'Content-Length: 5\r\n\r\n',
  '"\\',
  'é',
  '日本',
];

/** A mulberry32 generator with the draws the fuzz tests use. */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An int in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** An int in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.below(items.length)];
  }

  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let r = this.next() * total;
    for (const [w, v] of choices) {
      if ((r -= w) < 0) return v;
    }
    return choices[choices.length - 1][1];
  }

  /** A derived generator, so a sub-task's draws do not shift the parent's. */
  fork(): Rng {
    return new Rng((this.int(0, 0xffffffff) ^ 0x5bd1e995) >>> 0);
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.below(256);
    return out;
  }

  /** A random UTF-16 string: ASCII, controls, BMP, astral pairs, lone surrogates. */
  string(maxLength = 12): string {
    if (this.chance(0.25)) return this.pick(NASTY_STRINGS);
    const length = this.int(0, maxLength);
    let s = '';
    for (let i = 0; i < length; i++) {
      s += this.weighted<() => string>([
        [8, () => String.fromCharCode(this.int(0x20, 0x7e))],
        [1, () => String.fromCharCode(this.int(0, 0x1f))],
        [2, () => String.fromCharCode(this.int(0xa0, 0xd7ff))],
        [1, () => String.fromCodePoint(this.int(0x1f300, 0x1faff))],
        [1, () => String.fromCharCode(this.int(0xd800, 0xdfff))],
        [1, () => String.fromCharCode(this.int(0xe000, 0xfffd))],
      ])();
    }
    return s;
  }

  /** A printable ASCII string (header names and values). */
  ascii(maxLength = 12, from = 0x21, to = 0x7e): string {
    let s = '';
    const length = this.int(0, maxLength);
    for (let i = 0; i < length; i++) s += String.fromCharCode(this.int(from, to));
    return s;
  }

  /** A JSON number: small ints, boundaries, fractions, huge and tiny magnitudes. */
  jsonNumber(): number {
    return this.weighted<() => number>([
      [6, () => this.int(-5, 20)],
      [2, () => this.int(-1e6, 1e6)],
      [2, () => (this.next() - 0.5) * 10 ** this.int(-8, 8)],
      [1, () => this.pick([2 ** 31, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 53 + 2, 2 ** 63, 1e20, 1e300, -1e300, 5e-324, 0.1, -0, 1.5])],
    ])();
  }

  /** A random JSON value (what `JSON.parse` can return), with tag look-alikes and malformed tags. */
  json(depth = 3, options: JsonOptions = {}): unknown {
    const leaf = depth <= 0 || this.chance(0.45);
    if (leaf) {
      return this.weighted<() => unknown>([
        [2, () => null],
        [2, () => this.chance(0.5)],
        [5, () => this.jsonNumber()],
        [5, () => this.string()],
      ])();
    }
    return this.weighted<() => unknown>([
      [4, () => Array.from({ length: this.int(0, 4) }, () => this.json(depth - 1, options))],
      [4, () => this.jsonObject(depth - 1, options)],
      [3, () => this.tag(depth - 1, options)],
    ])();
  }

  /** A JSON object with random keys (some `$`-named, some prototype names). */
  jsonObject(depth: number, options: JsonOptions = {}): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const n = this.int(0, 4);
    for (let i = 0; i < n; i++) {
      const key = this.chance(0.5) ? this.pick(['a', 'b', 'id', 'method', 'args', 'kwargs', 'typeid', 'name']) : this.string(6);
      setOwn(out, key, this.json(depth, options));
    }
    return out;
  }

  /** An `$opaque` type name: any string, or any but the empty one. */
  private opaqueType(options: JsonOptions): string {
    const type = this.string(8);
    return type === '' && !options.emptyOpaqueType ? 'module.Class' : type;
  }

  /** A tagged object: mostly well-formed, sometimes with a malformed body or an unknown tag. */
  tag(depth: number, options: JsonOptions = {}): Record<string, unknown> {
    const malformed = this.chance(options.malformedTags ?? 0.3);
    const base64 = () => Buffer.from(this.bytes(this.int(0, 9))).toString('base64');
    const items = () => Array.from({ length: this.int(0, 3) }, () => this.json(depth, options));
    const body = (): [string, unknown] =>
      this.weighted<() => [string, unknown]>([
        [2, () => ['$bytes', base64()]],
        [2, () => ['$int', `${this.chance(0.3) ? '-' : ''}${this.int(0, 9)}${'0123456789'.repeat(this.int(0, 4))}`]],
        // Around Python's 4300-digit limit on int conversion, and far beyond it.
        [0.2, () => ['$int', `${this.chance(0.3) ? '-' : ''}${'9'.repeat(this.chance(0.9) ? this.int(4295, 4305) : 100_000)}`]],
        [2, () => ['$float', this.chance(0.7) ? this.jsonNumber() : this.pick(['nan', 'inf', '-inf'])]],
        [2, () => ['$tuple', items()]],
        [1, () => ['$set', items()]],
        [1, () => ['$frozenset', items()]],
        [2, () => ['$dict', Array.from({ length: this.int(0, 3) }, () => [this.json(depth, options), this.json(depth, options)])]],
        [1, () => ['$opaque', { lang: this.pick(['python', 'ts', 'x']), type: this.opaqueType(options), data: base64() }]],
        [1, () => ['$opaque', { lang: this.pick(['python', 'x', ...(options.emptyOpaqueLang === false ? [] : [''])]), type: this.opaqueType(options), data: this.pick(['', 'QUJD!', 'A', '@@@@', 'QUJD', 'QQ==', 'Q===']) }]],
        [options.proxies === false ? 0 : 1, () => ['$proxy', { id: this.pick(['1', '2', 'a', 'zz']), typeid: 'Queue', exposed: ['get'] }]],
      ])();
    if (!malformed) {
      const [tag, value] = body();
      return { [tag]: value };
    }
    const [tag, value] = this.weighted<() => [string, unknown]>([
      [3, () => [body()[0], this.json(depth, options)]],
      [1, () => ['$bytes', this.pick(['A', 'A===', '!!!!', 'AA=A', 'AAA', ' AAA', 'AA==\n', 5, null])]],
      [1, () => ['$int', this.pick(['', '-', '1.5', '1e3', ' 1', '0x10', '１', '+1', 1, null])]],
      [1, () => ['$float', this.pick(['NaN', 'Infinity', '', '1.5', true, null, [1]])]],
      [1, () => ['$dict', this.pick([[[1]], [[1, 2, 3]], [1], 'x', {}])]],
      [1, () => ['$opaque', this.pick([null, {}, { lang: 'python', type: 't' }, { lang: 1, type: 't', data: '' }, []])]],
      [options.proxies === false ? 0 : 1, () => ['$proxy', this.pick([null, {}, { id: 1, typeid: 'Q', exposed: [] }, { id: '1', typeid: 'Q' }])]],
      [1, () => [`$${this.ascii(6)}`, this.json(depth, options)]],
    ])();
    const out: Record<string, unknown> = {};
    setOwn(out, tag, value);
    return out;
  }
}

/** Options of {@link Rng.json}. */
export interface JsonOptions {
  /** Probability that a tag is malformed (default 0.3). */
  malformedTags?: number;
  /** Whether `$proxy` tags may appear (default true). */
  proxies?: boolean;
  /** Whether `$opaque` bodies with an empty `lang` may appear (default true). */
  emptyOpaqueLang?: boolean;
  /** Whether `$opaque` bodies with an empty `type` may appear (default false). */
  emptyOpaqueType?: boolean;
}

/** Sets an own member even when it is named `__proto__`. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Runs `body(rng, i)` up to `count` times or until `ms` have passed (at least 10 times), each case
 * with its own generator; reports the seed and the number of cases run. Returns that number.
 */
export function forSome(t: TestContext, name: string, count: number, ms: number, body: (rng: Rng, i: number) => void): number {
  const rng = new Rng(seedFor(name));
  const deadline = Date.now() + scaled(ms);
  const cases = scaled(count);
  let i = 0;
  for (; i < cases && (i < 10 || Date.now() < deadline); i++) {
    const caseRng = rng.fork();
    const caseSeed = caseRng.seed;
    withSeed(`${name}, case ${i} (case seed ${caseSeed})`, () => body(caseRng, i));
  }
  t.diagnostic(`seed ${BASE_SEED}: ${i} cases`);
  return i;
}
