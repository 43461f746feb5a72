/**
 * `syncmanager/client`: connect to a manager from a script and use its shared objects through
 * proxies, as Python's `BaseManager.connect()` does.
 */

export { connect, ManagerClient } from './managerClient';
export type { ConnectOptions, Connected, AnyProxy, ResumeOptions } from './managerClient';
export type { ClientTlsOptions } from './socketTransport';
export type { ReconnectOptions, ConnectionEvents } from './reconnect';
export { BaseProxy, releaseProxy, proxyBase } from './baseProxy';
export type { CallOptions } from './baseProxy';
export {
  QueueProxy,
  DictProxy,
  ListProxy,
  SetProxy,
  NamespaceProxy,
  ValueProxy,
  ArrayProxy,
  AcquirableProxy,
  LockProxy,
  RLockProxy,
  SemaphoreProxy,
  ConditionProxy,
  EventProxy,
  BarrierProxy,
  IteratorProxy,
} from './builtinProxies';
export type { AckGetOptions, BlockingOptions, PlainGetOptions, AcquireOptions, Held, WaitOptions, SetItems } from './builtinProxies';
export type { DynamicProxy } from './dynamicProxy';
export { Delivery } from './delivery';
export { kwargs, Kwargs } from './kwargs';
export { Inspection } from './inspection';
export type { InspectionSubscription } from './inspection';
export {
  ManagerError,
  isManagerError,
  AuthenticationError,
  ConnectionClosedError,
  ConnectionLostError,
  StaleProxyError,
  TimeoutError,
  ProxyReleasedError,
  AbortError,
  ProtocolError,
  DeliverySettledError,
  UnknownDeliveryError,
  UnknownTypeidError,
  UnknownObjectError,
  RemoteError,
  EmptyError,
  FullError,
  KeyError,
  IndexError,
  ValueError,
  AttributeError,
  BrokenBarrierError,
  RuntimeError,
} from './errors';
export { tuple, isTuple, FrozenSet, OpaqueValue, Slice } from '../common/valueTypes';
export type { Tuple } from '../common/valueTypes';
export type { Token, TypeidDescription, InspectSnapshot, ObjectSummary, SessionSummary, PendingCallSummary, DeliverySummary, PeekResult, InspectChangedParams } from '../common/protocol';
