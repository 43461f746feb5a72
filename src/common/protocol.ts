/**
 * The syncmanager protocol, version 1, as TypeScript types: one namespace per message, pairing the
 * method name with its params and result. `protocol/SPEC.md` is the normative text and
 * `protocol/schema.json` the machine-readable form; a test keeps all three in step.
 *
 * Everything after the handshake is JSON-RPC 2.0 with `Content-Length` framing. Values inside
 * `args`, `kwargs` and results use the tagged encoding of `valueCodec.ts`.
 */

/** The protocol version this code speaks, `major.minor`. Minor versions only add. */
export const PROTOCOL_VERSION = '1.3';

/** A message type: the method name carrying phantom params and result types. */
export interface RequestType<P, R> {
  readonly method: string;
  /** Never set: carries the params type for inference. */
  readonly _params?: P;
  /** Never set: carries the result type for inference. */
  readonly _result?: R;
}

/** A notification type (no reply). */
export interface NotificationType<P> {
  readonly method: string;
  readonly _params?: P;
}

function request<P, R>(method: string): RequestType<P, R> {
  return { method };
}

function notification<P>(method: string): NotificationType<P> {
  return { method };
}

/** Optional features a server offers or a client asks for. Absent means false. */
export interface ServerCapabilities {
  /** `$/cancelRequest` withdraws a blocking call with no side effect. Always true in 1.0. */
  cancellation?: boolean;
  /** Inspection methods (`inspect/*`) and `inspect/changed` notifications, used by the VS Code sidebar. Since 1.1. */
  inspection?: boolean;
  /** The same port also serves Python's pickle-based manager protocol. Not in 1.0. */
  pythonBridge?: boolean;
  /** Proxies inside values (`$proxy` in arguments, kept as references to the object). Since 1.2. */
  nestedProxies?: boolean;
  /**
   * Liveness (SPEC "Recovery"): asked by a client that will send `$/ping` at least every quarter
   * of the granted `livenessTimeoutMs`; granted by a server that then drops the session when it
   * hears nothing from the client for that long.
   */
  ping?: boolean;
  /**
   * Acknowledged gets (SPEC 20.3): `object/call` takes `ack` on a queue's get, and `delivery/ack`
   * and `delivery/nack` settle deliveries. Granted unasked to every 1.3 client.
   */
  acknowledgedGets?: boolean;
  /**
   * Raw bytes beside the JSON (SPEC 5.1, since 1.3): asked by a client that reads and writes frames
   * with attachments; once granted, either side may send byte strings as `$attachment`s instead of
   * `$bytes` base64, and the server does for every result.
   */
  binaryAttachments?: boolean;
  /**
   * Session resumption (SPEC 20.4, since 1.3): asked with the window the client wants; granted with
   * the window the server keeps a session whose connection dropped (at most its own maximum).
   */
  resume?: ResumeCapability;
}

/** The window of session resumption, in ms. */
export interface ResumeCapability {
  withinMs: number;
}

/**
 * What a client asks for under `capabilities.resume`: the window it wants, and, to resume a
 * session whose connection dropped rather than start one, its token and how many of its answers
 * the client received (SPEC 20.4). A server that does not know the capability ignores it, and the
 * client finds a new session (no `resumed` in the result).
 */
export interface ResumeRequest extends ResumeCapability {
  /** The session's resume token: the last one `initialize` gave it. */
  token?: string;
  /** With `token`: how many answers of the session the client has received, over all its connections. */
  answersSeen?: number;
}

/** What the client asks for; the server answers with what it grants. */
export type ClientCapabilities = Omit<ServerCapabilities, 'resume'> & { resume?: ResumeRequest };

/** Who the client is; shown by inspection tools. */
export interface ClientInfo {
  /** A short name: a script's name, "vscode", "python-worker". */
  name: string;
  /** The client library's version. */
  version?: string;
}

/** A reference to a shared object held by the server. */
export interface Token {
  /** The object's id in the server's table: an opaque string, stable for the object's life. */
  id: string;
  /** The typeid the object was created under. */
  typeid: string;
  /** The method names a client may call on it. */
  exposed: string[];
  /**
   * The built-in type the object is, when it is one (`Queue`, `dict`, `list`, `Namespace`,
   * `Value`): lets a typed client pick a typed proxy whatever the typeid is called.
   */
  builtin?: string;
}

/** `initialize`: client → server, first request of every session. */
export namespace InitializeRequest {
  export const type = request<InitializeParams, InitializeResult>('initialize');
}
export interface InitializeParams {
  /** The highest protocol version the client speaks, `major.minor`. */
  protocolVersion: string;
  clientInfo?: ClientInfo;
  /** The client's operating-system process id, or null when it has none. */
  processId?: number | null;
  capabilities?: ClientCapabilities;
}
export interface InitializeResult {
  /** The version both sides will speak: same major as the client's, minor the lower of the two. */
  protocolVersion: string;
  serverInfo: { name: string; version: string };
  capabilities: ServerCapabilities;
  /** This session's id, as inspection tools show it. */
  sessionId: string;
  /** With capability ping: the silence after which the server drops the session, in ms. */
  livenessTimeoutMs?: number;
  /** With capability resume: the token that resumes this session, the same for its whole life. */
  resumeToken?: string;
  /** True when `initialize` resumed an existing session (its id, references and holdings are as they were). */
  resumed?: boolean;
  /**
   * With `resumed`, when another manager of a group took the session over from one that is gone
   * (SPEC 20.4.1): the ids of the requests that reached the manager that died and whose answers
   * are not known; the client fails those as of unknown outcome and sends the others again.
   * `true`: no answer was kept, the client fails every request without an answer. Since 1.3.
   */
  answersLost?: true | (number | string)[];
}

/**
 * The `data` of a `SessionNotResumable` error for a session that another manager of the group
 * still keeps (SPEC 20.4.1): the client tries again later, or at another address, and does not
 * start a new session yet.
 */
export interface SessionElsewhereData {
  /** The id, in the group, of the manager that keeps the session. */
  keptBy: string;
}

/** `$/ping`: client → server. Answered `null` at once, whatever the session is waiting for; a
 * client uses it to learn that the server still answers, and (capability ping) to show it is alive. */
export namespace PingRequest {
  export const type = request<Record<string, never>, null>('$/ping');
}

/** `shutdown`: client → server. Ends the session, or with `server: true` the whole manager. */
export namespace ShutdownRequest {
  export const type = request<ShutdownParams, null>('shutdown');
}
export interface ShutdownParams {
  /** Stop the whole manager, as Python's `shutdown` control call does, not just this session. */
  server?: boolean;
}

/** `manager/describe`: client → server. The registered typeids. */
export namespace DescribeRequest {
  export const type = request<Record<string, never>, DescribeResult>('manager/describe');
}
export interface TypeidDescription {
  typeid: string;
  /** Methods proxies may call, or null when every public method of each object is exposed. */
  exposed: string[] | null;
  /** Methods whose result comes back as a proxy of the named typeid. */
  methodToTypeid: Record<string, string>;
  /** Whether clients get a creation method named after the typeid (`manager.get_task_queue()`). */
  createMethod: boolean;
  /** Whether `object/create` may be called for it (false when it has no callable). */
  creatable: boolean;
  /** The built-in type its objects are, when known in advance. */
  builtin?: string;
  /**
   * Whether every create gives the same one object (a registered shared object, like the seed's
   * `get_task_queue`): a reconnecting client fetches it again for its proxies (recovery, SPEC §R).
   */
  shared?: boolean;
}
export interface DescribeResult {
  typeids: TypeidDescription[];
}

/** `object/create`: client → server. Creates (or fetches a singleton) and returns a token holding one reference. */
export namespace CreateRequest {
  export const type = request<CreateParams, Token>('object/create');
}
export interface CreateParams {
  typeid: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
}

/** `object/call`: client → server. Calls an exposed method; the result is a value, or a `$proxy` value when method_to_typeid maps the method. */
export namespace CallRequest {
  export const type = request<CallParams, unknown>('object/call');
}
export interface CallParams {
  id: string;
  method: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /**
   * Since 1.3, only for a queue's `get` and `get_nowait`: the item is delivered, not handed over.
   * The result is then a {@link DeliveryResult}; the item stays in flight until `delivery/ack`.
   */
  ack?: boolean;
  /** With `ack`: seconds after which an unacknowledged delivery goes back to the queue by itself. */
  visibilityTimeout?: number;
}

/** The result of an `object/call` with `ack: true` (since 1.3, SPEC 20.3). */
export interface DeliveryResult {
  /** Names the delivery in `delivery/ack` and `delivery/nack`; unique for the server's life. */
  deliveryId: string;
  /** The item, as a value. */
  value: unknown;
  /** Whether the item was delivered before and came back (nack, visibility timeout, a session that ended). */
  redelivered: boolean;
  /** How many times the item has been delivered, this time included (1 for a first delivery). */
  deliveryCount: number;
}

/** `delivery/ack`: client → server (since 1.3). The delivered item is done with: it is gone for good. */
export namespace AckRequest {
  export const type = request<DeliveryParams, null>('delivery/ack');
}
/** `delivery/nack`: client → server (since 1.3). The delivered item goes back to the front of its queue. */
export namespace NackRequest {
  export const type = request<DeliveryParams, null>('delivery/nack');
}
export interface DeliveryParams {
  /** The queue's object id. */
  id: string;
  /** The `deliveryId` of the delivery. */
  deliveryId: string;
}

/** `object/incref`: client → server. The session takes one more reference. */
export namespace IncrefRequest {
  export const type = request<RefParams, null>('object/incref');
}
/** `object/decref`: client → server. The session drops one of its references. */
export namespace DecrefRequest {
  export const type = request<RefParams, null>('object/decref');
}
export interface RefParams {
  id: string;
}

/** `$/cancelRequest`: client → server notification. Withdraws a pending request with no side effect. */
export namespace CancelNotification {
  export const type = notification<CancelParams>('$/cancelRequest');
}
export interface CancelParams {
  id: number | string;
}

/** `$/answersSeen`: client → server notification (capability resume). The client has received
 * `count` answers in this session: the server may forget the answers it kept for a resumption up to
 * there (SPEC 20.4). */
export namespace AnswersSeenNotification {
  export const type = notification<AnswersSeenParams>('$/answersSeen');
}
export interface AnswersSeenParams {
  count: number;
}

/** `inspect/snapshot`: client → server (capability `inspection`). Every object and session, summarised. */
export namespace InspectSnapshotRequest {
  export const type = request<Record<string, never>, InspectSnapshot>('inspect/snapshot');
}
export interface InspectSnapshot {
  /** The manager itself. */
  server: { name: string; version: string; processId: number; address: string; startedAt: number };
  typeids: TypeidDescription[];
  objects: ObjectSummary[];
  sessions: SessionSummary[];
}
/** `inspect/group`: client → server (since 1.3). Every manager of the group this one belongs to (managers sharing one store), with its sessions, and the objects they share. */
export namespace InspectGroupRequest {
  export const type = request<Record<string, never>, InspectGroup>('inspect/group');
}
export interface InspectGroup {
  /** Every live manager of the group, the answering one first; a manager without a shared store lists only itself. */
  managers: GroupManagerSummary[];
  /** The objects the group shares (kept in its store), in no particular order; none without a shared store. */
  objects: GroupObjectSummary[];
  /** The resumable sessions the group keeps while no manager serves them (their manager died, SPEC 20.4.1); absent when there are none. */
  keptSessions?: GroupKeptSession[];
}
/** A resumable session the group keeps while no manager serves it: its manager died, and no manager took it over yet (SPEC 20.4.1). */
export interface GroupKeptSession {
  /** Its id on the manager that served it last. */
  sessionId: string;
  /** The id of the manager that served it last, gone now. */
  managerId: string;
  /** Its client's name, as its initialize gave it, if any. */
  clientName?: string;
  /** Until when a manager of the group can take it over (ms since the epoch); then what it holds is given back. */
  resumableUntil: number;
}
/** One manager of a group, as it last published itself. */
export interface GroupManagerSummary {
  /** Its id in the group. */
  managerId: string;
  /** Whether it is the manager that answered. */
  self: boolean;
  /** The address its clients connect to. */
  address: string;
  /** The server software's version. */
  version: string;
  processId: number;
  /** When it was created, ms since the epoch. */
  startedAt: number;
  /** When it published this, ms since the epoch (its own clock). */
  publishedAt: number;
  /** Its sessions, as its own `inspect/snapshot` lists them. */
  sessions: SessionSummary[];
}
/** One object a group shares. */
export interface GroupObjectSummary {
  /** Its id, the same through every manager of the group. */
  id: string;
  typeid: string;
  /** Its built-in type (`Queue`, `dict`...). */
  type: string;
  /** The ids of the managers whose sessions hold references to it. */
  managers: string[];
  /** Whether a stored value (an item of a queue, a value of a dict) refers to it, which keeps it. */
  stored: boolean;
}
/** One live object, as the inspection tools list it. */
export interface ObjectSummary {
  id: string;
  typeid: string;
  builtin?: string;
  /** The object's class name on the server. */
  type: string;
  refcount: number;
  /** Which sessions hold references, and how many each. */
  holders: { sessionId: string; references: number }[];
  /** Items, entries or attributes it holds, where that means something. */
  size?: number;
  /** Type-specific state: a queue's maxsize and waiters, a value's typecode and value... Values are encoded. */
  details: Record<string, unknown>;
  /** The methods clients may call on it, as its token lists them (servers since 1.2 MAY send it; tools offer them). */
  exposed?: string[];
}
/** One connected client. */
export interface SessionSummary {
  sessionId: string;
  clientInfo?: ClientInfo;
  processId: number | null;
  remoteAddress: string;
  /** Which protocol it speaks: `jsonrpc`, or `python` for a pickle client. */
  protocol: string;
  /** When it connected, in milliseconds since the epoch. */
  connectedAt: number;
  /** References it holds, over all objects. */
  references: number;
  /** Its calls that are waiting (blocking gets and puts). */
  pending: PendingCallSummary[];
  /** Ids of the objects it holds part of: locks, RLocks, conditions' locks, semaphore permits, queues it has deliveries of. Since 1.2. */
  holds?: string[];
  /** Present while the session's connection is gone and the session waits to be resumed: until when (ms since the epoch). Since 1.3. */
  resumableUntil?: number;
  /** Its deliveries not yet acknowledged (SPEC 20.3). Since 1.3. */
  deliveries?: DeliverySummary[];
}
/** A delivery in flight: taken with `ack: true` and not yet acknowledged. */
export interface DeliverySummary {
  deliveryId: string;
  /** The queue it came from. */
  objectId: string;
  /** How many times the item has been delivered, this time included. */
  deliveryCount: number;
  /** When it was delivered, in milliseconds since the epoch. */
  since: number;
  /** When it goes back by itself (its visibility timeout), in milliseconds since the epoch. */
  visibleAt?: number;
}
/** A call that is blocked in the manager. */
export interface PendingCallSummary {
  requestId: number | string;
  objectId: string;
  typeid: string;
  method: string;
  /** When it started, in milliseconds since the epoch. */
  since: number;
}

/** `inspect/peek`: client → server (capability `inspection`). A page of an object's contents, taking nothing. */
export namespace InspectPeekRequest {
  export const type = request<PeekParams, PeekResult>('inspect/peek');
}
export interface PeekParams {
  id: string;
  /** First item of the page (default 0). */
  offset?: number;
  /** Items in the page (default 100, at most 1000). */
  limit?: number;
}
export interface PeekResult {
  id: string;
  /**
   * `items` (a queue in get order, a list), `entries` (a dict: `[key, value]` pairs), `attributes`
   * (a namespace or a custom object: `[name, value]` pairs), `value` (a Value: one item).
   */
  kind: 'items' | 'entries' | 'attributes' | 'value';
  /** How many there are in all. */
  total: number;
  offset: number;
  items: unknown[];
}

/** `inspect/subscribe`: client → server (capability `inspection`). Start `inspect/changed` notifications. */
export namespace InspectSubscribeRequest {
  export const type = request<SubscribeParams, null>('inspect/subscribe');
}
export interface SubscribeParams {
  /** Least milliseconds between two notifications (default 100, at least 10): changes in between are merged. */
  intervalMs?: number;
}

/** `inspect/unsubscribe`: client → server. Stop `inspect/changed` notifications. */
export namespace InspectUnsubscribeRequest {
  export const type = request<Record<string, never>, null>('inspect/unsubscribe');
}

/** `inspect/changed`: server → client notification, to subscribed sessions. What changed since the last one. */
export namespace InspectChangedNotification {
  export const type = notification<InspectChangedParams>('inspect/changed');
}
export interface InspectChangedParams {
  /** Objects whose contents, references or waiters may have changed. */
  changed: string[];
  /** Objects that entered the table. */
  added: string[];
  /** Objects that left the table. */
  removed: string[];
  /** Whether sessions connected, left, or started or ended a blocking call. */
  sessions: boolean;
}

/** `inspect/watchCalls`: client → server (capability `inspection`). Start `inspect/calls` notifications (SPEC 17.8). */
export namespace InspectWatchCallsRequest {
  export const type = request<WatchCallsParams, null>('inspect/watchCalls');
}
export interface WatchCallsParams {
  /** Least milliseconds between two notifications (default 100, from 10 to 60000). */
  intervalMs?: number;
}

/** `inspect/unwatchCalls`: client → server. Stop `inspect/calls` notifications. */
export namespace InspectUnwatchCallsRequest {
  export const type = request<Record<string, never>, null>('inspect/unwatchCalls');
}

/** `inspect/calls`: server → client notification, to a session that watches calls. The calls that ended since the last one. */
export namespace InspectCallsNotification {
  export const type = notification<InspectCallsParams>('inspect/calls');
}
export interface InspectCallsParams {
  /** Calls that ended, oldest first (at most 200). */
  calls: CallRecord[];
  /** Calls that ended but were dropped because more were waiting than the server keeps (1000). */
  dropped: number;
}
/** One call that reached its object and ended, as the Activity view shows it. */
export interface CallRecord {
  sessionId: string;
  objectId: string;
  typeid: string;
  method: string;
  /** The arguments as display text (JSON of their values), at most 200 characters. */
  args: string;
  /** The result as display text, at most 200 characters; absent when the call raised. */
  result?: string;
  /** The exception's class and message, at most 200 characters; absent when the call returned. */
  error?: string;
  /** When the call started, in milliseconds since the epoch. */
  startedAt: number;
  /** How long it took, in milliseconds (fractions allowed). */
  durationMs: number;
}

/** `inspect/removeItem`: client → server (capability `inspection`). Removes one item of a queue or list, if it is the one shown (SPEC 17.9). */
export namespace InspectRemoveItemRequest {
  export const type = request<RemoveItemParams, RemoveItemResult>('inspect/removeItem');
}
export interface RemoveItemParams {
  /** The queue's or list's id. */
  id: string;
  /** The item's index (a queue's in get order), as `inspect/peek` gave it. */
  index: number;
  /** The item as `inspect/peek` showed it: the request is refused if the item at `index` is not this one. */
  expected: unknown;
}
export interface RemoveItemResult {
  /** How many items the queue or list holds afterwards. */
  total: number;
}

/** `inspect/replaceItem`: client → server (capability `inspection`). Replaces one item of a queue or list, if it is the one shown (SPEC 17.10). */
export namespace InspectReplaceItemRequest {
  export const type = request<ReplaceItemParams, ReplaceItemResult>('inspect/replaceItem');
}
export interface ReplaceItemParams extends RemoveItemParams {
  /** The new item, a value in wire form (SPEC 11), as an `object/call` argument. */
  item: unknown;
}
/** How many items the queue or list holds afterwards (the same as before). */
export type ReplaceItemResult = RemoveItemResult;

/** Every request method of protocol 1.1, for dispatch tables and the schema test. */
export const requestMethods = [
  InitializeRequest.type.method,
  ShutdownRequest.type.method,
  DescribeRequest.type.method,
  CreateRequest.type.method,
  CallRequest.type.method,
  IncrefRequest.type.method,
  DecrefRequest.type.method,
  InspectSnapshotRequest.type.method,
  InspectGroupRequest.type.method,
  InspectPeekRequest.type.method,
  InspectSubscribeRequest.type.method,
  InspectUnsubscribeRequest.type.method,
  InspectWatchCallsRequest.type.method,
  InspectUnwatchCallsRequest.type.method,
  InspectRemoveItemRequest.type.method,
  InspectReplaceItemRequest.type.method,
  PingRequest.type.method,
  AckRequest.type.method,
  NackRequest.type.method,
] as const;

/** Every notification method of protocol 1.1: `$/cancelRequest` (client → server) and `inspect/changed` (server → client). */
export const notificationMethods = [CancelNotification.type.method, AnswersSeenNotification.type.method, InspectChangedNotification.type.method, InspectCallsNotification.type.method] as const;
