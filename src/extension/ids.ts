/**
 * Every command, view, setting and context key id, defined once: package.json's `contributes` must
 * use the same strings, and a test holds the two together.
 */

export const enum Command {
  Start = 'syncmanager.start',
  Stop = 'syncmanager.stop',
  Restart = 'syncmanager.restart',
  Attach = 'syncmanager.attach',
  Detach = 'syncmanager.detach',
  CopyConnectionInfo = 'syncmanager.copyConnectionInfo',
  NewWorkerTerminal = 'syncmanager.newWorkerTerminal',
  SetAuthkey = 'syncmanager.setAuthkey',
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
}

export const enum View {
  Container = 'syncmanager',
  Objects = 'syncmanager.objects',
  Clients = 'syncmanager.clients',
}

export const enum Setting {
  Section = 'syncmanager',
  Address = 'address',
  Register = 'register',
  ConfigFile = 'configFile',
  StartOnOpen = 'startOnOpen',
  AttachTls = 'attachTls',
}

export const enum ContextKey {
  /** `stopped`, `starting`, `running` (started here), `attached`, `stopping`. */
  State = 'syncmanager.state',
}

/** The URI scheme of the read-only JSON documents (Open as JSON). */
export const JSON_SCHEME = 'syncmanager-object';
