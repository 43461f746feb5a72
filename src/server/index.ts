/**
 * `syncmanager/server`: the manager server. Register typeids and serve them, in this process or a
 * child process, to TypeScript, Python and any JSON-RPC client.
 */

export { Manager } from './manager';
export { authkeyBytes } from '../common/authkey';
export type { ManagerOptions, ManagerRegisterOptions, BuiltinTypeName, SharedSpec } from './manager';
export type { RegisterOptions, ObjectFactory, Registration } from './registry';
export { defineConfig, loadConfig, findConfigFile, ConfigError, CONFIG_FILE_NAMES } from './config';
export type { ConfigDefinition } from './config';
export {
  Queue, LifoQueue, PriorityQueue, Dict, List, PySet, Namespace, Value, PyArray,
  Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier, PyIterator, builtinTypes,
} from './builtins';
export { SharedRef } from './calls/sharedRef';
export { PyException, CallCancelled } from './exceptions';
export { sig, bindArguments, ownerOf, LOCAL_OWNER } from './calls/methodDispatch';
export type { CallContext, HeldResource, Signature } from './calls/methodDispatch';
export { tuple, isTuple, FrozenSet, Float, OpaqueValue, Slice } from '../common/valueTypes';
export { VERSION } from '../common/version';
