/**
 * `syncmanager/server`: the manager server. Register typeids and serve them, in this process or a
 * child process, to TypeScript, Python and any JSON-RPC client.
 */

export { Manager, authkeyBytes } from './manager';
export type { ManagerOptions, ManagerRegisterOptions, BuiltinTypeName, SharedSpec } from './manager';
export type { RegisterOptions, ObjectFactory, Registration } from './registry';
export { defineConfig, loadConfig, findConfigFile, ConfigError, CONFIG_FILE_NAMES } from './config';
export type { ConfigDefinition } from './config';
export { Queue, Dict, List, Namespace, Value, builtinTypes } from './builtins';
export { PyException, CallCancelled } from './exceptions';
export { sig, bindArguments } from './signature';
export type { CallContext, Signature } from './signature';
export { tuple, isTuple, FrozenSet, Float, OpaqueValue } from '../common/values';
export { VERSION } from '../common/version';
