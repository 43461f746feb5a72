/**
 * Every command, view, setting, context key and tree context value, defined once. package.json's
 * `contributes` must use the same strings; test/extension/manifest.test.ts reads these enums and
 * the manifest and fails when the two disagree. No vscode here, so that test runs in plain Node.
 *
 * These are ordinary enums, not `const enum`s, so the test can list their values at run time.
 */

/** Command ids: the palette, menus, `${command:…}` variables and `executeCommand`. */
export enum Command {
  Start = 'syncmanager.start',
  Stop = 'syncmanager.stop',
  Restart = 'syncmanager.restart',
  Attach = 'syncmanager.attach',
  Detach = 'syncmanager.detach',
  CopyConnectionInfo = 'syncmanager.copyConnectionInfo',
  NewWorkerTerminal = 'syncmanager.newWorkerTerminal',
  SetAuthkey = 'syncmanager.setAuthkey',
  /** The password of the syncmanager.store setting's Redis, into VS Code's secret storage. */
  SetStorePassword = 'syncmanager.setStorePassword',
  ClearStorePassword = 'syncmanager.clearStorePassword',
  ShowActions = 'syncmanager.showActions',
  ShowLog = 'syncmanager.showLog',
  Refresh = 'syncmanager.refresh',
  PutItem = 'syncmanager.putItem',
  SetKey = 'syncmanager.setKey',
  Peek = 'syncmanager.peek',
  CopyValue = 'syncmanager.copyValue',
  OpenAsJson = 'syncmanager.openAsJson',
  ClearQueue = 'syncmanager.clearQueue',
  DeleteKey = 'syncmanager.deleteKey',
  /** First run: adds get_task_queue and get_result_queue to the setting (served at once). */
  ServeSeedQueues = 'syncmanager.serveSeedQueues',
  AddSharedQueue = 'syncmanager.addSharedQueue',
  /** One list item removed (asks first). */
  RemoveItem = 'syncmanager.removeItem',
  /** A list item, a dict value or an attribute replaced. */
  EditItem = 'syncmanager.editItem',
  /** Shows only the items of a container that contain a text. */
  Filter = 'syncmanager.filter',
  /** Any exposed method of an object, with JSON arguments. */
  CallMethod = 'syncmanager.callMethod',
  /** Activity: stop showing new calls (the manager stops sending them). */
  PauseActivity = 'syncmanager.pauseActivity',
  ResumeActivity = 'syncmanager.resumeActivity',
  /** Activity: show only the calls whose row contains a text. */
  FilterActivity = 'syncmanager.filterActivity',
  ClearActivity = 'syncmanager.clearActivity',
  /** The manager's address, for `${command:syncmanager.address}` in launch configurations. */
  Address = 'syncmanager.address',
  /** The manager's authkey, for `${command:syncmanager.authkey}`. */
  Authkey = 'syncmanager.authkey',
}

/** View containers and views. */
export enum View {
  Container = 'syncmanager',
  Objects = 'syncmanager.objects',
  Clients = 'syncmanager.clients',
  /** The calls clients make, live (inspect/watchCalls). */
  Activity = 'syncmanager.activity',
  /** The Objects tree again, in the Run and Debug container, so it stays in sight at a breakpoint. */
  DebugObjects = 'syncmanager.debugObjects',
}

/** The settings section and the keys under it (`syncmanager.<key>`). */
export enum Setting {
  Section = 'syncmanager',
  Address = 'address',
  Register = 'register',
  ConfigFile = 'configFile',
  StartOnOpen = 'startOnOpen',
  DebugAddEnvironment = 'debug.addEnvironment',
  ValueStyle = 'valueStyle',
  AttachTls = 'attachTls',
  Store = 'store',
  StorePrefix = 'storePrefix',
  StoreLease = 'storeLease',
}

/** The names of the extension's secrets in VS Code's secret storage start so, then `:` and what the secret is for. */
export enum SecretPrefix {
  /** The authkey of the manager started in a workspace, by the workspace folder's URI. */
  Authkey = 'syncmanager.authkey',
  /** The password of a store's Redis, by server and user (model/storeCredentials.ts). */
  StorePassword = 'syncmanager.storePassword',
}

/** Context keys the extension sets for `when` clauses. */
export enum ContextKey {
  /** A {@link ManagerStateValue}. */
  State = 'syncmanager.state',
  /** True while a running or attached manager shows nothing in the Objects view (its first-run welcome). */
  ServesNothing = 'syncmanager.servesNothing',
  /** True while the Activity view is paused. */
  ActivityPaused = 'syncmanager.activityPaused',
}

/** The values of {@link ContextKey.State}. */
export enum ManagerStateValue {
  Stopped = 'stopped',
  Starting = 'starting',
  /** A manager started here. */
  Running = 'running',
  /** A manager started elsewhere. */
  Attached = 'attached',
  Stopping = 'stopping',
}

/**
 * Tree items' `contextValue`s (`viewItem` in `when` clauses), which decide the inline and context
 * actions a row offers. Object rows carry their built-in type in lower case (every queue type is
 * `queue`); rows inside an object say what kind of part they are.
 */
export enum ContextValue {
  Typeid = 'typeid',
  /** Object rows, by built-in type. */
  Queue = 'queue',
  Dict = 'dict',
  List = 'list',
  Set = 'set',
  Namespace = 'namespace',
  Value = 'value',
  Array = 'array',
  Lock = 'lock',
  RLock = 'rlock',
  Semaphore = 'semaphore',
  BoundedSemaphore = 'boundedsemaphore',
  Condition = 'condition',
  Event = 'event',
  Barrier = 'barrier',
  Iterator = 'iterator',
  /** An object of a custom (registered) class. */
  Object = 'object',
  /** Rows inside an object. */
  QueueItem = 'queueItem',
  ListItem = 'listItem',
  /** An item shown read-only (a set's member, an array's item). */
  Item = 'item',
  ValueItem = 'valueItem',
  /** A part of a nested value (an item of a list inside a queue item...): read-only. */
  NestedValue = 'nestedValue',
  DictEntry = 'dictEntry',
  Attribute = 'attribute',
  /** A fact about a lock, event, semaphore or barrier. */
  State = 'state',
  /** "N more…", which loads the next page. */
  More = 'more',
  /** A placeholder: "(empty)", an error. */
  Message = 'message',
  /** Clients view rows. */
  Session = 'session',
  /** A manager of the group (managers sharing one Redis store), above its clients. */
  Manager = 'manager',
  /** A client of another manager of the group: shown, not acted on from here. */
  RemoteSession = 'remoteSession',
  /** "Kept by the group": above the resumable sessions whose manager died, which no manager serves. */
  KeptSessions = 'keptSessions',
  /** A resumable session the group keeps while no manager serves it: shown, not acted on. */
  KeptSession = 'keptSession',
  /** "Elsewhere in the group": above the group's objects this manager has not served. */
  Elsewhere = 'elsewhere',
  /** An object of the group this manager has not served, with state rather than contents (a lock): shown, not opened from here. */
  GroupObject = 'groupObject',
  /** An object of the group this manager has not served, with contents (a queue, a dict...): opened, read from the group's store. */
  GroupContents = 'groupContents',
  PendingCall = 'pendingCall',
  HeldLock = 'heldLock',
  HeldObject = 'heldObject',
  /** An item delivered to the client by a get with ack and not acknowledged yet. */
  Delivery = 'delivery',
  /** Activity view rows: one call. */
  Call = 'call',
}

/** The URI scheme of the read-only JSON documents (Open as JSON). */
export const JSON_SCHEME = 'syncmanager-object';
