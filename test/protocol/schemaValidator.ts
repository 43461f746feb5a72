/**
 * Validates protocol messages against `protocol/schema.json`, for the schema test and for any
 * test that wants to check live traffic: `assert.deepEqual(validateMessage(message), [])`.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';

/** Where the schema lives. */
export const SCHEMA_PATH = join(__dirname, '..', '..', 'protocol', 'schema.json');

/** The schema's custom top-level keywords, which ajv must be told about. */
export const SCHEMA_KEYWORDS = ['x-methods', 'x-errorCodes', 'x-valueTags', 'x-protocolVersion'] as const;

/** One entry of the schema's `x-methods`. */
export interface SchemaMethod {
  kind: 'request' | 'notification';
  /** `clientToServer`, or `serverToClient` (only notifications, since 1.1). */
  direction: 'clientToServer' | 'serverToClient';
  params: { $ref: string };
  result?: { $ref: string };
  errors?: string[];
  /** The protocol version that added the method (absent: 1.0). */
  since?: string;
  /** The capability under which a server offers it (absent: always offered). */
  capability?: string;
}

/** The parts of the schema the tests read directly. */
export interface ProtocolSchema {
  $id: string;
  $defs: Record<string, unknown>;
  'x-methods': Record<string, SchemaMethod>;
  'x-errorCodes': Record<string, number>;
  'x-valueTags': string[];
  'x-protocolVersion': string;
  [key: string]: unknown;
}

/** Reads the schema from disk (fresh each call). */
export function loadSchema(): ProtocolSchema {
  return JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as ProtocolSchema;
}

/** An ajv instance set up for the schema: draft 2020-12, strict, every error reported. */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  ajv.addVocabulary([...SCHEMA_KEYWORDS]);
  return ajv;
}

interface Compiled {
  schema: ProtocolSchema;
  ajv: Ajv2020;
  message: ValidateFunction;
  definition(name: string): ValidateFunction;
}

let compiled: Compiled | undefined;

function compile(): Compiled {
  if (compiled) return compiled;
  const schema = loadSchema();
  const ajv = createAjv();
  const message = ajv.compile(schema);
  const cache = new Map<string, ValidateFunction>();
  const definition = (name: string): ValidateFunction => {
    let fn = cache.get(name);
    if (!fn) {
      fn = ajv.getSchema(`${schema.$id}#/$defs/${name}`);
      if (!fn) throw new Error(`schema.json has no $defs/${name}`);
      cache.set(name, fn);
    }
    return fn;
  };
  compiled = { schema, ajv, message, definition };
  return compiled;
}

/** `{"$ref": "#/$defs/Token"}` → `Token`. */
export function definitionName(ref: { $ref: string }): string {
  const prefix = '#/$defs/';
  if (!ref.$ref.startsWith(prefix)) throw new Error(`unexpected $ref ${ref.$ref}`);
  return ref.$ref.slice(prefix.length);
}

function format(errors: ErrorObject[] | null | undefined, prefix = ''): string[] {
  const out = new Set<string>();
  for (const e of errors ?? []) {
    // `if`/`then` failures only repeat the errors found inside the `then` branch.
    if (e.keyword === 'if') continue;
    const where = prefix + e.instancePath || '/';
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
    out.add(`${where} ${e.message}${extra}`);
  }
  return [...out];
}

function run(fn: ValidateFunction, value: unknown, prefix = ''): string[] {
  return fn(value) ? [] : format(fn.errors, prefix);
}

/**
 * Validates one wire message (a parsed body). Returns the problems found, empty when it is valid.
 * The message is checked against the kind its shape says it is (request, notification, response,
 * error response), which gives clearer errors than the schema's top-level `oneOf`. A response
 * carries no method name: pass the method of the request it answers to check `result` too.
 */
export function validateMessage(message: unknown, method?: string): string[] {
  const c = compile();
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return run(c.message, message);
  }
  const m = message as Record<string, unknown>;
  if ('method' in m) return run(c.definition('id' in m ? 'Request' : 'Notification'), m);
  if ('error' in m) return run(c.definition('ErrorResponse'), m);
  if ('result' in m) {
    const errors = run(c.definition('Response'), m);
    if (method !== undefined) {
      const entry = c.schema['x-methods'][method];
      if (!entry?.result) errors.push(`/ no request method ${JSON.stringify(method)} has a result in x-methods`);
      else errors.push(...run(c.definition(definitionName(entry.result)), m.result, '/result'));
    }
    return errors;
  }
  return run(c.message, m);
}

/** Validates a value against one of the schema's `$defs` (`Value`, `Token`, `InitializeParams`...). */
export function validateDefinition(name: string, value: unknown): string[] {
  return run(compile().definition(name), value);
}
