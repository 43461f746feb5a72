/**
 * Patterns of the conformance suite (README, "Patterns and placeholders"): matching a received
 * message against the JSON a scenario expects, and substituting captured values into what a
 * scenario sends. Pure functions over parsed JSON, so that they can be tested without a server.
 */

/** A parsed JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values remembered by `"$capture:NAME"`, by name. Matching never mutates a map: it returns a new one. */
export type Captures = ReadonlyMap<string, Json>;

/** A mistake in a scenario itself (an unknown placeholder, a name never captured), as opposed to a server's wrong answer. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

/** What a string starting with `$` means in a pattern or a send. */
export type Placeholder =
  | { kind: 'any' }
  | { kind: 'type'; type: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' }
  | { kind: 'capture'; name: string }
  | { kind: 'ref'; name: string }
  | { kind: 'literal'; text: string };

const TYPE_PLACEHOLDERS = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array']);
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Reads a string as a placeholder. Returns undefined for a string that does not start with `$`
 * (it means itself). An unknown `$` string is a scenario error rather than a literal, so that a
 * typo such as `"$strnig"` cannot silently demand that exact text.
 */
export function parsePlaceholder(text: string): Placeholder | undefined {
  if (!text.startsWith('$')) return undefined;
  if (text.startsWith('$$')) return { kind: 'literal', text: text.slice(1) };
  if (text === '$any') return { kind: 'any' };
  const bare = text.slice(1);
  if (TYPE_PLACEHOLDERS.has(bare)) return { kind: 'type', type: bare as 'string' };
  if (bare.startsWith('capture:') && NAME.test(bare.slice('capture:'.length))) return { kind: 'capture', name: bare.slice('capture:'.length) };
  if (bare.startsWith('{') && bare.endsWith('}') && NAME.test(bare.slice(1, -1))) return { kind: 'ref', name: bare.slice(1, -1) };
  throw new ScenarioError(`unknown placeholder ${JSON.stringify(text)} (write a literal "$" as "$$")`);
}

function captured(captures: Captures, name: string): Json {
  if (!captures.has(name)) throw new ScenarioError(`"\${${name}}" was never captured`);
  return captures.get(name)!;
}

/**
 * Replaces placeholders in a message to send: `"${NAME}"` becomes the captured value (of any
 * type), `"$$text"` the string `"$text"`. Object keys are never placeholders (`{"$float": 2}` is
 * a value tag). Any other placeholder has no meaning in a send and is a scenario error.
 */
export function substitute(template: Json, captures: Captures): Json {
  if (typeof template === 'string') {
    const p = parsePlaceholder(template);
    if (!p) return template;
    if (p.kind === 'literal') return p.text;
    if (p.kind === 'ref') return captured(captures, p.name);
    throw new ScenarioError(`placeholder ${JSON.stringify(template)} cannot be sent; only "\${NAME}" and "$$" can`);
  }
  if (Array.isArray(template)) return template.map((item) => substitute(item, captures));
  if (template !== null && typeof template === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [key, value] of Object.entries(template)) out[key] = substitute(value, captures);
    return out;
  }
  return template;
}

/** The outcome of a match: the captures extended by it, or where and why it failed. */
export type MatchResult = { ok: true; captures: Captures } | { ok: false; path: string; reason: string };

/** A short JSON rendering for failure messages. */
export function show(value: unknown, max = 300): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function fail(path: string, reason: string): MatchResult {
  return { ok: false, path: path || '/', reason };
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether a pattern is `{"$unordered": [...]}` or `{"$anyOf": [...]}`: an object whose only key is the operator. */
function operator(pattern: { [key: string]: Json }, name: '$unordered' | '$anyOf'): Json[] | undefined {
  const keys = Object.keys(pattern);
  if (keys.length !== 1 || keys[0] !== name) return undefined;
  const body = pattern[name];
  if (!Array.isArray(body)) throw new ScenarioError(`${name} takes an array of patterns`);
  return body;
}

/**
 * Matches `actual` against `pattern` with the README's rules; `path` (a JSON pointer) names where
 * in the message a failure is. Captures made by a failed branch of `$anyOf` or `$unordered` are
 * not kept: every step returns a new map.
 */
export function match(pattern: Json, actual: Json | undefined, captures: Captures = new Map(), path = ''): MatchResult {
  if (actual === undefined) return fail(path, `expected ${show(pattern)}, got nothing`);
  if (typeof pattern === 'string') {
    const p = parsePlaceholder(pattern);
    if (p) return matchPlaceholder(p, actual, captures, path);
    return actual === pattern ? { ok: true, captures } : fail(path, `expected ${show(pattern)}, got ${show(actual)}`);
  }
  if (pattern === null || typeof pattern === 'boolean' || typeof pattern === 'number') {
    // Numbers compare by value: JSON.parse already reads 1 and 1.0 as the same number. A negative
    // zero is its own value (section 11.3 keeps its sign): -0 and 0 do not match each other.
    const signed = (v: unknown) => (Object.is(v, -0) ? '-0.0' : show(v));
    return actual === pattern && Object.is(actual, 0) === Object.is(pattern, 0) ? { ok: true, captures } : fail(path, `expected ${signed(pattern)}, got ${signed(actual)}`);
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual)) return fail(path, `expected an array, got ${show(actual)}`);
    if (actual.length !== pattern.length) return fail(path, `expected ${pattern.length} items, got ${actual.length}: ${show(actual)}`);
    let current = captures;
    for (let i = 0; i < pattern.length; i++) {
      const r = match(pattern[i], actual[i], current, `${path}/${i}`);
      if (!r.ok) return r;
      current = r.captures;
    }
    return { ok: true, captures: current };
  }
  const unordered = operator(pattern, '$unordered');
  if (unordered) return matchUnordered(unordered, actual, captures, path);
  const anyOf = operator(pattern, '$anyOf');
  if (anyOf) return matchAnyOf(anyOf, actual, captures, path);
  return matchObject(pattern, actual, captures, path);
}

function matchPlaceholder(p: Placeholder, actual: Json, captures: Captures, path: string): MatchResult {
  switch (p.kind) {
    case 'any':
      return { ok: true, captures };
    case 'literal':
      return actual === p.text ? { ok: true, captures } : fail(path, `expected ${show(p.text)}, got ${show(actual)}`);
    case 'capture': {
      const next = new Map(captures);
      next.set(p.name, actual);
      return { ok: true, captures: next };
    }
    case 'ref': {
      const value = captured(captures, p.name);
      return jsonEqual(value, actual) ? { ok: true, captures } : fail(path, `expected \${${p.name}} = ${show(value)}, got ${show(actual)}`);
    }
    case 'type': {
      const ok =
        p.type === 'integer' ? typeof actual === 'number' && Number.isInteger(actual)
        : p.type === 'object' ? isObject(actual)
        : p.type === 'array' ? Array.isArray(actual)
        : typeof actual === p.type;
      return ok ? { ok: true, captures } : fail(path, `expected any ${p.type}, got ${show(actual)}`);
    }
  }
}

/** Deep equality of JSON values, for `"${NAME}"` in a pattern: the captured value, itself, not read as a pattern. */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && jsonEqual(a[key], b[key]));
  }
  return false;
}

function matchObject(pattern: { [key: string]: Json }, actual: Json, captures: Captures, path: string): MatchResult {
  if (!isObject(actual)) return fail(path, `expected an object, got ${show(actual)}`);
  const more = pattern.$more;
  if (more !== undefined && typeof more !== 'boolean') throw new ScenarioError('"$more" must be true or false');
  let current = captures;
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$more') continue;
    if (!(key in actual)) return fail(`${path}/${key}`, `missing key ${show(key)} in ${show(actual)}`);
    const r = match(sub, actual[key], current, `${path}/${key}`);
    if (!r.ok) return r;
    current = r.captures;
  }
  if (more !== true) {
    const extra = Object.keys(actual).filter((key) => !(key in pattern) || key === '$more');
    if (extra.length) return fail(path, `unexpected key ${show(extra[0])} in ${show(actual)}`);
  }
  return { ok: true, captures: current };
}

function matchAnyOf(alternatives: Json[], actual: Json, captures: Captures, path: string): MatchResult {
  const reasons: string[] = [];
  for (const alternative of alternatives) {
    const r = match(alternative, actual, captures, path);
    if (r.ok) return r;
    reasons.push(`${r.path}: ${r.reason}`);
  }
  return fail(path, `matches none of $anyOf (${reasons.join('; ')})`);
}

/** Finds an assignment of items to patterns by backtracking; sets are small in scenarios. */
function matchUnordered(patterns: Json[], actual: Json, captures: Captures, path: string): MatchResult {
  if (!Array.isArray(actual)) return fail(path, `expected an array, got ${show(actual)}`);
  if (actual.length !== patterns.length) return fail(path, `expected ${patterns.length} items in any order, got ${actual.length}: ${show(actual)}`);
  const used = new Array<boolean>(actual.length).fill(false);
  let budget = 100_000; // bounds the search for pathological patterns
  const place = (i: number, current: Captures): Captures | undefined => {
    if (i === patterns.length) return current;
    for (let j = 0; j < actual.length; j++) {
      if (used[j] || --budget < 0) continue;
      const r = match(patterns[i], actual[j], current, `${path}/${j}`);
      if (!r.ok) continue;
      used[j] = true;
      const done = place(i + 1, r.captures);
      if (done) return done;
      used[j] = false;
    }
    return undefined;
  };
  const result = place(0, captures);
  return result ? { ok: true, captures: result } : fail(path, `no arrangement of ${show(actual)} matches ${show(patterns)}`);
}

/** Whether a pattern uses anything but plain JSON: placeholders, `$more`, `$unordered`, `$anyOf`. */
export function hasPlaceholders(pattern: Json): boolean {
  if (typeof pattern === 'string') return pattern.startsWith('$');
  if (Array.isArray(pattern)) return pattern.some(hasPlaceholders);
  if (isObject(pattern)) {
    if ('$more' in pattern) return true;
    if (operator(pattern, '$unordered') || operator(pattern, '$anyOf')) return true;
    return Object.values(pattern).some(hasPlaceholders);
  }
  return false;
}

/** Equality of two JSON-RPC ids: `1` and `"1"` are different ids. */
export function sameId(a: Json | undefined, b: Json | undefined): boolean {
  return typeof a === typeof b && a === b;
}
