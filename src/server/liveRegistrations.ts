/**
 * Typeids registered while a manager serves, from a line stream: `syncmanager serve
 * --registrations-on-stdin` reads one JSON line per registration, `{"register": "TYPEID=TYPE(args)"}`
 * (the form of `--register`), and answers each with one JSON line, `{"registered": TYPEID, "type": TYPE}`
 * or `{"error": MESSAGE}`. The VS Code extension writes these when its `syncmanager.register`
 * setting gains a typeid, so a restart (which would empty every queue) is needed only to change or
 * remove one. A bad line is answered and skipped; it never stops the manager.
 */

import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { BuiltinTypeName } from './manager';

/** A parsed `TYPEID=TYPE(args)`. */
export interface SharedRegistration {
  typeid: string;
  type: BuiltinTypeName;
  args: unknown[];
}

/** What reading registrations needs from the CLI. */
export interface RegistrationTarget {
  /** Parses `TYPEID=TYPE(args)`; throws naming what is wrong. */
  parse(text: string): SharedRegistration;
  has(typeid: string): boolean;
  register(registration: SharedRegistration): void;
  /** One JSON line back. */
  answer(line: string): void;
  log(message: string): void;
}

/** Reads registrations from `input` until it ends. */
export function acceptRegistrations(input: Readable, target: RegistrationTarget): void {
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    target.answer(JSON.stringify(registerLine(line, target)));
  });
}

function registerLine(line: string, target: RegistrationTarget): Record<string, string> {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return { error: `not a JSON line: ${line.slice(0, 100)}` };
  }
  const text = (message as { register?: unknown } | null)?.register;
  if (typeof text !== 'string') return { error: 'expected {"register": "TYPEID=TYPE"}, e.g. {"register": "get_task_queue=Queue"}' };
  try {
    const registration = target.parse(text);
    if (target.has(registration.typeid)) return { error: `${registration.typeid} is already registered: changing it needs a restart` };
    target.register(registration);
    target.log(`registered typeid ${registration.typeid} (${registration.type}) while serving`);
    return { registered: registration.typeid, type: registration.type };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
