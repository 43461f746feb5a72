/**
 * The `syncmanager.register` setting as registrations: typeid → `TYPEID=TYPE(args)` (the form of
 * `syncmanager serve --register`), checked, and what changed between what a running manager serves
 * and what the setting now asks for. Pure: no vscode, unit tested.
 */

/** The typeids the seed's manager serves (examples/seed-manager.ts), offered on a first run. */
export const SEED_QUEUES: Readonly<Record<string, string>> = { get_task_queue: 'Queue', get_result_queue: 'Queue' };

/** What a typeid may be called (the server's rule: a name, not starting with a digit). */
export const TYPEID_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * The setting's registrations, typeid → `TYPEID=TYPE(args)`.
 * @throws Error naming the entry that is not a typeid → built-in type.
 */
export function registrationsOf(setting: unknown): Map<string, string> {
  if (setting === undefined || setting === null) return new Map();
  if (typeof setting !== 'object' || Array.isArray(setting)) throw new Error('the setting syncmanager.register must be an object of typeid → built-in type, e.g. { "get_task_queue": "Queue" }');
  return new Map(
    Object.entries(setting as Record<string, unknown>).map(([typeid, type]) => {
      if (!TYPEID_PATTERN.test(typeid)) throw new Error(`syncmanager.register: "${typeid}" is not a typeid (letters, digits, _, . or -, not starting with a digit)`);
      if (typeof type !== 'string' || !/^[A-Za-z]+(\(.*\))?$/s.test(type)) throw new Error(`syncmanager.register.${typeid}: "${String(type)}" is not a built-in type such as "Queue" or "Queue(10)"`);
      return [typeid, `${typeid}=${type}`];
    }),
  );
}

/** How the setting differs from what a manager serves. */
export interface RegistrationChanges {
  /** In the setting, not served: can be registered while it runs. */
  added: string[];
  /** Served as something else than the setting now says: needs a restart. */
  changed: string[];
  /** Served, no longer in the setting: needs a restart to go. */
  removed: string[];
}

/** Compares served (typeid → spec) with wanted (typeid → spec). */
export function registrationChanges(served: ReadonlyMap<string, string>, wanted: ReadonlyMap<string, string>): RegistrationChanges {
  const changes: RegistrationChanges = { added: [], changed: [], removed: [] };
  for (const [typeid, spec] of wanted) {
    const now = served.get(typeid);
    if (now === undefined) changes.added.push(typeid);
    else if (now.replace(/\s+/g, '') !== spec.replace(/\s+/g, '')) changes.changed.push(typeid);
  }
  for (const typeid of served.keys()) if (!wanted.has(typeid)) changes.removed.push(typeid);
  return changes;
}
