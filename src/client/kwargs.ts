/**
 * Keyword arguments from TypeScript: wrap an object in `kwargs()` as the last argument of a remote
 * call and it travels as Python's `**kwargs` instead of a positional dict.
 *
 * @example await manager.create('Queue', kwargs({ maxsize: 3 }))
 * @example await counter.increment(kwargs({ by: 2 }))
 */

/** Keyword arguments for a remote call. */
export class Kwargs {
  constructor(readonly values: Readonly<Record<string, unknown>>) {}
}

/** Marks an object as keyword arguments. */
export function kwargs(values: Record<string, unknown>): Kwargs {
  return new Kwargs(values);
}

/** Splits a call's arguments into positionals and the trailing keywords, if any. */
export function splitArguments(args: readonly unknown[]): { args: unknown[]; kwargs?: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (last instanceof Kwargs) return { args: args.slice(0, -1), kwargs: { ...last.values } };
  return { args: args as unknown[] };
}
