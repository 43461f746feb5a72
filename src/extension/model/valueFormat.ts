/**
 * Shows wire values (JSON with `$` tags) the way a Python programmer reads them: `'text'`, `None`,
 * `(1, 2)`, `b'\x00a'`, `{1, 2}`, `<pickled fractions.Fraction>`; or, in the JSON style, the way a
 * TypeScript or JSON client reads them: `"text"`, `null`, `[1, 2]`. Pure: no vscode, so it is unit
 * tested with node's test runner.
 */

/** How values are shown: as Python prints them, or as JSON (the `syncmanager.valueStyle` setting). */
export type ValueStyle = 'python' | 'json';

/**
 * The style every tree row uses. One setting for the whole window, read by the extension when it
 * starts and when the setting changes (then the views refresh), rather than passed through every row.
 */
let currentStyle: ValueStyle = 'python';

/** Sets the style values are shown in from now on. */
export function setValueStyle(style: ValueStyle): void {
  currentStyle = style;
}

/** Longest text a tree row shows before it is cut with an ellipsis. */
export const DEFAULT_MAX_LENGTH = 120;

function pyString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const body = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return `${quote}${quote === "'" ? body.replace(/'/g, "\\'") : body}${quote}`;
}

function pyBytes(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  let out = "b'";
  for (const b of bytes) {
    if (b === 0x27) out += "\\'";
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `${out}'`;
}

function join(items: unknown[], budget: { left: number }): string {
  const parts: string[] = [];
  for (const item of items) {
    if (budget.left <= 0) {
      parts.push('…');
      break;
    }
    const part = repr(item, budget);
    budget.left -= part.length + 2;
    parts.push(part);
  }
  return parts.join(', ');
}

function repr(value: unknown, budget: { left: number }): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isInteger(value) || !Number.isFinite(value) ? String(value) : String(value);
  if (typeof value === 'string') return pyString(value);
  if (Array.isArray(value)) return `[${join(value, budget)}]`;
  if (typeof value !== 'object') return String(value);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    const body = record[keys[0]];
    switch (keys[0]) {
      case '$bytes':
        return pyBytes(String(body));
      case '$int':
        return String(body);
      case '$float':
        return body === 'nan' ? 'nan' : body === 'inf' ? 'inf' : body === '-inf' ? '-inf' : Number.isInteger(body) ? `${body}.0` : String(body);
      case '$tuple': {
        const items = body as unknown[];
        return items.length === 1 ? `(${repr(items[0], budget)},)` : `(${join(items, budget)})`;
      }
      case '$set':
        return (body as unknown[]).length === 0 ? 'set()' : `{${join(body as unknown[], budget)}}`;
      case '$frozenset':
        return `frozenset({${join(body as unknown[], budget)}})`;
      case '$dict':
        return `{${join(
          (body as [unknown, unknown][]).map(([k, v]) => ({ $pair: [k, v] })),
          budget,
        )}}`;
      case '$pair': {
        const [k, v] = body as [unknown, unknown];
        return `${repr(k, budget)}: ${repr(v, budget)}`;
      }
      case '$opaque': {
        const o = body as { lang?: string; type?: string };
        return `<${o.lang === 'python' ? 'pickled' : (o.lang ?? 'opaque')} ${o.type ?? 'object'}>`;
      }
      case '$proxy': {
        const t = body as { typeid?: string; id?: string };
        return `<proxy ${t.typeid ?? '?'} #${t.id ?? '?'}>`;
      }
    }
  }
  return `{${join(
    keys.map((k) => ({ $pair: [k, record[k]] })),
    budget,
  )}}`;
}

/** A wire value as Python would print it (or as JSON, in that style), cut to `maxLength` characters. */
export function formatValue(value: unknown, maxLength = DEFAULT_MAX_LENGTH, style: ValueStyle = currentStyle): string {
  const text = style === 'json' ? jsonText(value) : repr(value, { left: maxLength });
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

/** Compact JSON of a wire value with its tags resolved as a JSON client sees them (tuples and sets as arrays). */
function jsonText(value: unknown): string {
  return compactJson(plain(value));
}

/** Text that goes into JSON as it is (a big integer's digits). */
class RawJson {
  constructor(readonly text: string) {}
}

/** JSON on one line with a space after each comma and colon, as a person writes it. */
function compactJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(compactJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${compactJson(v)}`).join(', ')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** A wire value with its `$` tags turned into plain JSON. */
function plain(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    const body = record[keys[0]];
    switch (keys[0]) {
      case '$tuple':
      case '$set':
      case '$frozenset':
        return (body as unknown[]).map(plain);
      case '$dict': {
        const pairs = body as [unknown, unknown][];
        return pairs.every(([k]) => typeof k === 'string') ? Object.fromEntries(pairs.map(([k, v]) => [k, plain(v)])) : pairs.map(([k, v]) => [plain(k), plain(v)]);
      }
      case '$int':
        return new RawJson(String(body)); // all its digits: a JavaScript number would round them
      case '$float':
        return body === 'nan' ? 'NaN' : body === 'inf' ? 'Infinity' : body === '-inf' ? '-Infinity' : body;
      case '$bytes':
        return `<${Buffer.from(String(body), 'base64').length} bytes>`;
      case '$opaque':
      case '$proxy':
        return repr(value, { left: DEFAULT_MAX_LENGTH });
    }
  }
  return Object.fromEntries(keys.map((k) => [k, plain(record[k])]));
}

/** The wire value as pretty JSON (Copy Value, Open as JSON). */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** A short name of a value's type, for tooltips: int, str, tuple, bytes... */
export function typeOfValue(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  const keys = Object.keys(value as object);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    const tag = keys[0].slice(1);
    if (tag === 'opaque') return ((value as Record<string, { type?: string }>).$opaque.type ?? 'object').split('.').pop()!;
    return { bytes: 'bytes', int: 'int', float: 'float', tuple: 'tuple', set: 'set', frozenset: 'frozenset', dict: 'dict', proxy: 'proxy' }[tag] ?? tag;
  }
  return 'dict';
}
