/**
 * The syncmanager VS Code extension: start and stop a manager from commands, watch its objects,
 * queue contents and clients live in the sidebar, and give every new terminal the address and
 * authkey so a worker script needs no configuration. `activate()` only wires; everything it makes
 * is disposed with the extension, and `deactivate()` waits for the manager to stop.
 */

import * as vscode from 'vscode';
import { ActivityView } from './activityView';
import { ClientsView } from './clientsView';
import { DebugEnvironment } from './debugEnvironment';
import { revealObjectsAtBreakpoints } from './debugViewReveal';
import { allCommands, registerCommands } from './commands';
import { Command, ContextKey, JSON_SCHEME, ManagerStateValue, Setting, View } from './ids';
import { JsonDocuments } from './jsonDocuments';
import { ManagerController, type ManagerState } from './managerController';
import type { Row } from './model/treeModel';
import { setValueStyle, type ValueStyle } from './model/valueFormat';
import { ObjectsView } from './objectsView';
import { RegisterSetting } from './registerSetting';
import { StatusBar } from './statusBar';
import { StorePasswords } from './storePasswords';

/** What the extension exports: its controller, for tests and other extensions. */
export interface SyncmanagerApi {
  readonly controller: ManagerController;
  readonly commands: readonly string[];
  /**
   * The sidebar's tree data, read-only: the rows the Objects and Clients views show (`getChildren`, `getTreeItem`)
   * and when they change. For tests (test/vscode/suite) and other extensions; nothing here changes a view.
   */
  readonly views: { readonly objects: ReadonlyTree; readonly clients: ReadonlyTree };
  /** The tree views themselves (whether each is visible), for tests. */
  readonly treeViews: { readonly objects: vscode.TreeView<Row>; readonly clients: vscode.TreeView<Row>; readonly debugObjects: vscode.TreeView<Row> };
  /** The Activity view's calls and state, for tests. */
  readonly activity: ActivityView;
  /** The extension's log folder, where VS Code writes the syncmanager output channel: tests read what it shows. */
  readonly logUri: vscode.Uri;
}

/** The read-only face of a tree data provider. */
export type ReadonlyTree = Pick<vscode.TreeDataProvider<Row>, 'getChildren' | 'getTreeItem' | 'onDidChangeTreeData'>;

let controller: ManagerController | undefined;

export function activate(context: vscode.ExtensionContext): SyncmanagerApi {
  const output = vscode.window.createOutputChannel('syncmanager', { log: true });
  const log = (line: string) => output.info(line);
  controller = new ManagerController({
    log,
    onCrash: (reason) => {
      void vscode.window.showErrorMessage(`The syncmanager manager stopped unexpectedly (${reason}).`, 'Restart', 'Show Log').then((choice) => {
        if (choice === 'Restart') void vscode.commands.executeCommand(Command.Start);
        if (choice === 'Show Log') output.show();
      });
    },
  });
  const objects = new ObjectsView(controller);
  const clients = new ClientsView(controller);
  const activity = new ActivityView(controller);
  const documents = new JsonDocuments(controller);
  const registerSetting = new RegisterSetting(controller, log);
  const storePasswords = new StorePasswords(context.secrets, log);
  const treeViews = {
    objects: vscode.window.createTreeView(View.Objects, { treeDataProvider: objects, showCollapseAll: true }),
    clients: vscode.window.createTreeView(View.Clients, { treeDataProvider: clients }),
    // The same tree in Run and Debug, which VS Code shows at every breakpoint.
    debugObjects: vscode.window.createTreeView(View.DebugObjects, { treeDataProvider: objects, showCollapseAll: true }),
  };
  const activityTree = vscode.window.createTreeView(View.Activity, { treeDataProvider: activity });
  activity.attach(activityTree);
  void vscode.commands.executeCommand('setContext', ContextKey.State, ManagerStateValue.Stopped);

  context.subscriptions.push(
    output,
    controller,
    objects,
    clients,
    activity,
    activityTree,
    documents,
    // The Clients view's title says the number the status bar shows, so the two agree.
    new StatusBar(controller, (n) => (treeViews.clients.description = n === undefined ? undefined : `${n} client${n === 1 ? '' : 's'} + this sidebar`)),
    ...Object.values(treeViews),
    DebugEnvironment.register(controller),
    revealObjectsAtBreakpoints(context, controller, treeViews.debugObjects),
    vscode.workspace.registerTextDocumentContentProvider(JSON_SCHEME, documents),
    registerSetting,
    storePasswords,
    ...registerCommands({
      context,
      controller,
      output,
      registerSetting,
      storePasswords,
      refreshViews: () => objects.refresh(),
      setFilter: (id, text) => objects.setFilter(id, text),
      filterOf: (id) => objects.filterOf(id),
      activity,
    }),
    controller.onDidChangeState((state) => updateTerminalEnvironment(context, state, controller!)),
  );
  updateTerminalEnvironment(context, 'stopped', controller);

  const applyValueStyle = () => setValueStyle(vscode.workspace.getConfiguration(Setting.Section).get<ValueStyle>(Setting.ValueStyle, 'python') === 'json' ? 'json' : 'python');
  applyValueStyle();
  // A password in syncmanager.store is in plain text in a settings file: say so once, offering to move it.
  void storePasswords.warnIfInSettings();
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(`${Setting.Section}.${Setting.ValueStyle}`)) return;
      applyValueStyle();
      objects.refresh();
    }),
  );

  if (vscode.workspace.getConfiguration(Setting.Section).get<boolean>(Setting.StartOnOpen, false)) {
    void vscode.commands.executeCommand(Command.Start).then(undefined, () => {});
  }
  return { controller, commands: allCommands, views: { objects, clients }, treeViews, activity, logUri: context.logUri };
}

/** New terminals get SYNCMANAGER_ADDRESS and SYNCMANAGER_AUTHKEY while a manager runs, and lose them when it stops. */
function updateTerminalEnvironment(context: vscode.ExtensionContext, state: ManagerState, c: ManagerController): void {
  const env = context.environmentVariableCollection;
  // The authkey must not be written to VS Code's storage: the collection lives only as long as this window.
  env.persistent = false;
  const connection = c.connectionEnvironment();
  if ((state === 'running' || state === 'attached') && connection) {
    env.description = `syncmanager at ${c.address}`;
    for (const [name, value] of Object.entries(connection)) env.replace(name, value);
  } else if (state === 'stopped') {
    env.clear();
  }
}

export async function deactivate(): Promise<void> {
  // VS Code is closing: the manager saves its shared objects, and the next Start restores them.
  await controller?.teardown({ keep: true });
  controller = undefined;
}
