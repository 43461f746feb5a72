/**
 * The typeids a SyncManager serves, as the protocol names them: shared by the server (which
 * registers them), the CLI and the VS Code extension (which shows them), so no list drifts.
 */

/** The queue typeids: one item store each, the same methods. */
export const QUEUE_TYPES = ['Queue', 'JoinableQueue', 'LifoQueue', 'PriorityQueue'] as const;

/** The `threading` primitives: state and owners, no contents. */
export const PRIMITIVE_TYPES = ['Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Condition', 'Event', 'Barrier'] as const;

/** Every SyncManager typeid served by default, in the order tools list them. */
export const SYNC_MANAGER_TYPEIDS = [
  ...QUEUE_TYPES, 'dict', 'list', 'set', 'Namespace', 'Value', 'Array', ...PRIMITIVE_TYPES, 'Iterator',
] as const;

/** A SyncManager typeid. */
export type SyncManagerTypeid = (typeof SYNC_MANAGER_TYPEIDS)[number];

const queueTypes: ReadonlySet<string> = new Set(QUEUE_TYPES);
const primitiveTypes: ReadonlySet<string> = new Set(PRIMITIVE_TYPES);

/** Whether a built-in type name is a queue (FIFO, LIFO or priority). */
export function isQueueType(builtin: string | undefined): boolean {
  return builtin !== undefined && queueTypes.has(builtin);
}

/** Whether a built-in type name is a lock, semaphore, condition, event or barrier. */
export function isPrimitiveType(builtin: string | undefined): boolean {
  return builtin !== undefined && primitiveTypes.has(builtin);
}
