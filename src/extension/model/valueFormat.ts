/**
 * Shows wire values (JSON with `$` tags) the way a Python programmer reads them: `'text'`, `None`,
 * `(1, 2)`, `b'\x00a'`, `{1, 2}`, `<pickled fractions.Fraction>`. Pure: no vscode, so it is unit
 * tested with node's test runner.
 */

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

/** A wire value as Python would print it, cut to `maxLength` characters. */
export function formatValue(value: unknown, maxLength = DEFAULT_MAX_LENGTH): string {
  const text = repr(value, { left: maxLength });
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
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
