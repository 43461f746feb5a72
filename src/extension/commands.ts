/**
 * The extension's commands: lifecycle (start, stop, restart, attach, detach), connection info and
 * worker terminals, and the sidebar's item actions (put, set key, peek, copy, open as JSON, clear,
 * delete). Each validates its input and says clearly what went wrong.
 */

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { parseAddress } from '../common/address';
import { findConfigFile } from '../common/configFiles';
import { attachTlsOptions, type AttachTlsSetting } from './attachTls';
import { Command, Setting } from './ids';
import { JsonDocuments } from './jsonDocuments';
import type { ManagerController } from './managerController';
import type { Row } from './model/treeModel';
import { formatJson, formatValue } from './model/valueFormat';

/** What the commands need from the extension. */
export interface CommandHost {
  readonly context: vscode.ExtensionContext;
  readonly controller: ManagerController;
  readonly output: vscode.OutputChannel;
  refreshViews(): void;
}

/** The workspace's authkey: from SecretStorage, made at random the first time. Never in settings. */
export async function workspaceAuthkey(context: vscode.ExtensionContext): Promise<string> {
  const key = authkeySecretName();
  let authkey = await context.secrets.get(key);
  if (!authkey) {
    authkey = randomBytes(16).toString('hex');
    await context.secrets.store(key, authkey);
  }
  return authkey;
}

function authkeySecretName(): string {
  return `syncmanager.authkey:${vscode.workspace.workspaceFolders?.[0]?.uri.toString() ?? 'no-folder'}`;
}

/** `TYPEID=TYPE` lines from the `syncmanager.register` setting, checked. */
export function registerArguments(setting: unknown): string[] {
  if (setting === undefined || setting === null) return [];
  if (typeof setting !== 'object' || Array.isArray(setting)) throw new Error('the setting syncmanager.register must be an object of typeid → built-in type, e.g. { "get_task_queue": "Queue" }');
  return Object.entries(setting as Record<string, unknown>).map(([typeid, type]) => {
    if (typeof type !== 'string' || !/^[A-Za-z]+(\(.*\))?$/s.test(type)) throw new Error(`syncmanager.register.${typeid}: "${String(type)}" is not a built-in type such as "Queue" or "Queue(10)"`);
    return `${typeid}=${type}`;
  });
}

/** Parses JSON typed by the user into a wire value; undefined (with a message) when it is not JSON. */
function parseJsonInput(text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}. Strings need quotes: "text"` };
  }
}

async function askJson(prompt: string, placeHolder: string): Promise<unknown | undefined> {
  const text = await vscode.window.showInputBox({ prompt, placeHolder, validateInput: (t) => parseJsonInput(t).error });
  return text === undefined ? undefined : parseJsonInput(text).value;
}

/** Registers every command; returns their disposables. */
export function registerCommands(host: CommandHost): vscode.Disposable[] {
  const { context, controller, output } = host;
  const config = () => vscode.workspace.getConfiguration(Setting.Section);
  const folder = () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const requireClient = () => {
    if (!controller.client) throw new Error('No manager is running: start one or attach first.');
    return controller.client;
  };

  const start = async () => {
    const address = config().get<string>(Setting.Address, '127.0.0.1:0');
    parseAddress(address);
    const register = registerArguments(config().get(Setting.Register));
    const configured = config().get<string>(Setting.ConfigFile, '');
    const configFile = configured ? (folder() ? vscode.Uri.joinPath(vscode.Uri.file(folder()!), configured).fsPath : configured) : undefined;
    const authkey = await workspaceAuthkey(context);
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Starting the syncmanager manager…' }, () =>
      controller.start({ address, authkey, register, configFile: configFile ?? autoConfig(), cwd: folder() }),
    );
    output.appendLine(`manager running on ${controller.address}`);
  };

  /** A config module in the workspace root, unless a config file is set. */
  const autoConfig = () => {
    const root = folder();
    return root ? findConfigFile(root) : undefined;
  };

  const handlers: Record<string, (...args: any[]) => unknown> = {
    [Command.Start]: start,
    [Command.Stop]: () => controller.stop(),
    [Command.Restart]: async () => {
      await controller.stop();
      await start();
    },
    [Command.Attach]: async (address?: string, authkey?: string) => {
      address ??= await vscode.window.showInputBox({
        prompt: 'Address of the running manager',
        placeHolder: '127.0.0.1:50000 or /path/to/socket',
        value: context.workspaceState.get<string>('syncmanager.lastAttach') ?? '127.0.0.1:50000',
        validateInput: (t) => {
          try {
            parseAddress(t);
            return undefined;
          } catch (error) {
            return (error as Error).message;
          }
        },
      });
      if (address === undefined) return;
      authkey ??= await vscode.window.showInputBox({ prompt: `Authkey of the manager at ${address}`, password: true, validateInput: (t) => (t ? undefined : 'the authkey cannot be empty') });
      if (authkey === undefined) return;
      await context.workspaceState.update('syncmanager.lastAttach', address);
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Attaching to ${address}…` }, () => controller.attach(address!, authkey!, attachTlsOptions(config().get<AttachTlsSetting>(Setting.AttachTls))));
    },
    [Command.Detach]: () => controller.stop(),
    [Command.CopyConnectionInfo]: async () => {
      requireClient();
      await vscode.env.clipboard.writeText(`export SYNCMANAGER_ADDRESS=${controller.address} SYNCMANAGER_AUTHKEY=${controller.authkey}`);
      void vscode.window.showInformationMessage(`Copied: export SYNCMANAGER_ADDRESS=${controller.address} SYNCMANAGER_AUTHKEY=…`);
    },
    [Command.NewWorkerTerminal]: () => {
      requireClient();
      const terminal = vscode.window.createTerminal({
        name: 'syncmanager worker',
        cwd: folder(),
        env: { SYNCMANAGER_ADDRESS: controller.address!, SYNCMANAGER_AUTHKEY: controller.authkey! },
      });
      terminal.show();
      return terminal;
    },
    [Command.SetAuthkey]: async () => {
      const authkey = await vscode.window.showInputBox({ prompt: "This workspace's authkey (stored in VS Code's secret storage; used from the next start)", password: true, validateInput: (t) => (t.length >= 8 ? undefined : 'use at least 8 characters') });
      if (authkey !== undefined) await context.secrets.store(authkeySecretName(), authkey);
    },
    [Command.ShowLog]: () => output.show(),
    [Command.ShowActions]: async () => {
      const running = controller.client !== undefined;
      const picks = running
        ? [
            { label: '$(copy) Copy Connection Info', command: Command.CopyConnectionInfo },
            { label: '$(terminal) New Worker Terminal', command: Command.NewWorkerTerminal },
            ...(controller.owned ? [{ label: '$(debug-restart) Restart Manager', command: Command.Restart }, { label: '$(debug-stop) Stop Manager', command: Command.Stop }] : [{ label: '$(debug-disconnect) Detach', command: Command.Detach }]),
            { label: '$(output) Show Log', command: Command.ShowLog },
          ]
        : [
            { label: '$(play) Start Manager', command: Command.Start },
            { label: '$(plug) Attach to a Running Manager…', command: Command.Attach },
            { label: '$(output) Show Log', command: Command.ShowLog },
          ];
      const pick = await vscode.window.showQuickPick(picks, { placeHolder: running ? `syncmanager at ${controller.address}` : 'syncmanager is not running' });
      if (pick) await vscode.commands.executeCommand(pick.command);
    },
    [Command.Refresh]: () => host.refreshViews(),
    [Command.PutItem]: async (row?: Row) => {
      const client = requireClient();
      if (!row?.objectId) return;
      const value = await askJson(`Item to ${row.contextValue === 'list' ? 'append to' : 'put into'} ${row.label} (JSON)`, '{"task": 1}');
      if (value === undefined) return;
      await client.callById(row.objectId, row.contextValue === 'list' ? 'append' : 'put_nowait', [value]);
    },
    [Command.SetKey]: async (row?: Row) => {
      const client = requireClient();
      if (!row?.objectId) return;
      const key = await askJson(`Key in ${row.label} (JSON)`, '"name"');
      if (key === undefined) return;
      const value = await askJson(`Value for ${formatValue(key)} (JSON)`, '42');
      if (value === undefined) return;
      await client.callById(row.objectId, row.contextValue === 'namespace' ? '__setattr__' : '__setitem__', [key, value]);
    },
    [Command.Peek]: async (row?: Row) => {
      const client = requireClient();
      if (!row?.objectId) return;
      const page = await client.inspection.peek(row.objectId, { limit: 1 });
      void vscode.window.showInformationMessage(page.total === 0 ? `${row.label} is empty` : `Next in ${row.label} (of ${page.total}): ${formatValue(page.items[0], 500)}`);
    },
    [Command.CopyValue]: async (row?: Row) => {
      if (!row) return;
      await vscode.env.clipboard.writeText(formatJson(row.value));
    },
    [Command.OpenAsJson]: async (row?: Row) => {
      if (!row?.objectId) return;
      const doc = await vscode.workspace.openTextDocument(JsonDocuments.uriFor(row.objectId, row.typeid ?? 'object'));
      await vscode.languages.setTextDocumentLanguage(doc, 'json');
      await vscode.window.showTextDocument(doc, { preview: true });
    },
    [Command.ClearQueue]: async (row?: Row) => {
      const client = requireClient();
      if (!row?.objectId) return;
      const size = (await client.inspection.peek(row.objectId, { limit: 1 })).total;
      const answer = await vscode.window.showWarningMessage(`Remove all ${size} items from ${row.label}? Workers waiting on it keep waiting.`, { modal: true }, 'Clear Queue');
      if (answer !== 'Clear Queue') return;
      // Taken with get_nowait, as any client would: pipelined, stopping at the first Empty.
      let removed = 0;
      for (let batch = 0; batch < 1000; batch++) {
        const results = await Promise.allSettled(Array.from({ length: 500 }, () => client.callById(row.objectId!, 'get_nowait')));
        removed += results.filter((r) => r.status === 'fulfilled').length;
        if (results.some((r) => r.status === 'rejected')) break;
      }
      void vscode.window.showInformationMessage(`Removed ${removed} items from ${row.label}.`);
    },
    [Command.DeleteKey]: async (row?: Row) => {
      const client = requireClient();
      if (!row?.objectId) return;
      await client.callById(row.objectId, row.contextValue === 'attribute' ? '__delattr__' : '__delitem__', [row.key]);
    },
  };

  return Object.entries(handlers).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (error) {
        const message = (error as Error).message;
        output.appendLine(`${id} failed: ${message}`);
        void vscode.window.showErrorMessage(`syncmanager: ${message}`, 'Show Log').then((choice) => choice && output.show());
        // Tests drive commands directly and need to see the failure.
        throw error;
      }
    }),
  );
}

/** The ids of every command registered here (the manifest test compares them with package.json). */
export const allCommands: readonly string[] = [
  Command.Start, Command.Stop, Command.Restart, Command.Attach, Command.Detach, Command.CopyConnectionInfo, Command.NewWorkerTerminal,
  Command.SetAuthkey, Command.ShowActions, Command.ShowLog, Command.Refresh, Command.PutItem, Command.SetKey, Command.Peek,
  Command.CopyValue, Command.OpenAsJson, Command.ClearQueue, Command.DeleteKey,
];
