/**
 * The extension's commands: lifecycle (start, stop, restart, attach, detach), connection info and
 * worker terminals, and the sidebar's item actions (put, set key, peek, copy, open as JSON, clear,
 * delete). Each validates its input and says clearly what went wrong.
 */

import * as vscode from 'vscode';
import type { ActivityView } from './activityView';
import { randomAuthkey } from '../common/authkey';
import { parseAddress } from '../common/address';
import { findConfigFile } from '../common/configFiles';
import { attachTlsOptions, type AttachTlsSetting } from './attachTls';
import { Command, ContextValue, Setting } from './ids';
import { JsonDocuments } from './jsonDocuments';
import type { ManagerController } from './managerController';
import { callObject, withObject } from './objectCalls';
import type { Row } from './model/treeModel';
import { SEED_QUEUES, TYPEID_PATTERN } from './model/registrations';
import { formatJson, formatValue } from './model/valueFormat';
import type { RegisterSetting } from './registerSetting';

/** What the commands need from the extension. */
export interface CommandHost {
  readonly context: vscode.ExtensionContext;
  readonly controller: ManagerController;
  readonly output: vscode.OutputChannel;
  readonly registerSetting: RegisterSetting;
  refreshViews(): void;
  /** Filters an object's items in the Objects view (undefined: no filter), and reads the filter back. */
  setFilter(objectId: string, text: string | undefined): void;
  filterOf(objectId: string): string | undefined;
  /** The Activity view: pause, filter, clear. */
  readonly activity: Pick<ActivityView, 'setPaused' | 'setFilter' | 'clear' | 'filter'>;
}

/** The workspace's authkey: from SecretStorage, made at random the first time. Never in settings. */
export async function workspaceAuthkey(context: vscode.ExtensionContext): Promise<string> {
  const key = authkeySecretName();
  let authkey = await context.secrets.get(key);
  if (!authkey) {
    authkey = randomAuthkey();
    await context.secrets.store(key, authkey);
  }
  return authkey;
}

function authkeySecretName(): string {
  return `syncmanager.authkey:${vscode.workspace.workspaceFolders?.[0]?.uri.toString() ?? 'no-folder'}`;
}

/** Parses JSON typed by the user into a wire value; undefined (with a message) when it is not JSON. */
function parseJsonInput(text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}. Strings need quotes: "text"` };
  }
}

async function askJson(prompt: string, placeHolder: string, value?: string): Promise<unknown | undefined> {
  const text = await vscode.window.showInputBox({ prompt, placeHolder, value, validateInput: (t) => parseJsonInput(t).error });
  return text === undefined ? undefined : parseJsonInput(text).value;
}

/** Asks before data is destroyed (a modal warning); true when the user chose `action`. */
async function confirm(message: string, action: string): Promise<boolean> {
  return (await vscode.window.showWarningMessage(message, { modal: true }, action)) === action;
}

/** The arguments each command takes when a menu or a caller gives them; the rest take none. */
interface CommandArguments {
  [Command.Attach]: [address?: string, authkey?: string];
  [Command.PutItem]: [row?: Row];
  [Command.SetKey]: [row?: Row];
  [Command.Peek]: [row?: Row];
  [Command.CopyValue]: [row?: Row];
  [Command.OpenAsJson]: [row?: Row];
  [Command.ClearQueue]: [row?: Row];
  [Command.DeleteKey]: [row?: Row];
  [Command.RemoveItem]: [row?: Row];
  [Command.EditItem]: [row?: Row];
  [Command.CallMethod]: [row?: Row, method?: string, args?: string];
  [Command.Filter]: [row?: Row, text?: string];
  [Command.FilterActivity]: [text?: string];
}

/** One handler per command, no more and no fewer: a command added to {@link Command} without a handler does not compile. */
type CommandHandlers = {
  [C in Command]: (...args: C extends keyof CommandArguments ? CommandArguments[C] : []) => unknown;
};

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
    const register = [...host.registerSetting.wanted().values()];
    const configured = config().get<string>(Setting.ConfigFile, '');
    const configFile = configured ? (folder() ? vscode.Uri.joinPath(vscode.Uri.file(folder()!), configured).fsPath : configured) : undefined;
    const authkey = await workspaceAuthkey(context);
    const store = config().get<string>(Setting.Store, '') || undefined;
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Starting the syncmanager manager…' }, () =>
      controller.start({ address, authkey, register, configFile: configFile ?? autoConfig(), cwd: folder(), store }),
    );
    output.appendLine(`manager running on ${controller.address}`);
  };

  /** A config module in the workspace root, unless a config file is set. */
  const autoConfig = () => {
    const root = folder();
    return root ? findConfigFile(root) : undefined;
  };

  const handlers: CommandHandlers = {
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
        env: controller.connectionEnvironment(),
      });
      terminal.show();
      return terminal;
    },
    [Command.SetAuthkey]: async () => {
      const authkey = await vscode.window.showInputBox({ prompt: "This workspace's authkey (stored in VS Code's secret storage; used from the next start)", password: true, validateInput: (t) => (t.length >= 8 ? undefined : 'use at least 8 characters') });
      if (authkey !== undefined) await context.secrets.store(authkeySecretName(), authkey);
    },
    [Command.ShowLog]: () => output.show(),
    [Command.ServeSeedQueues]: () => host.registerSetting.add(SEED_QUEUES),
    [Command.AddSharedQueue]: async () => {
      const registered = host.registerSetting.wanted();
      const typeid = await vscode.window.showInputBox({
        prompt: 'Name of the shared queue: workers get it with manager.<name>()',
        value: registered.has('get_task_queue') ? 'jobs' : 'get_task_queue',
        validateInput: (t) => (!TYPEID_PATTERN.test(t) ? 'letters, digits, _, . or -, not starting with a digit' : registered.has(t) ? `${t} is already in syncmanager.register` : undefined),
      });
      if (typeid === undefined) return;
      const type = await vscode.window.showQuickPick(
        [
          { label: 'Queue', description: 'first in, first out' },
          { label: 'LifoQueue', description: 'last in, first out' },
          { label: 'PriorityQueue', description: 'smallest first' },
          { label: 'JoinableQueue', description: 'with task_done() and join()' },
        ],
        { placeHolder: `Kind of queue for ${typeid}` },
      );
      if (type === undefined) return;
      await host.registerSetting.add({ [typeid]: type.label });
    },
    // `${command:…}` variables: a launch configuration using them fails to start, with this message, while no manager runs.
    [Command.Address]: () => requireClient() && controller.address,
    [Command.Authkey]: () => requireClient() && controller.authkey,
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
      requireClient();
      if (!row?.objectId) return;
      const value = await askJson(`Item to ${row.contextValue === ContextValue.List ? 'append to' : 'put into'} ${row.label} (JSON)`, '{"task": 1}');
      if (value === undefined) return;
      await callObject(controller, row.objectId, row.contextValue === ContextValue.List ? 'append' : 'put_nowait', [value]);
    },
    [Command.SetKey]: async (row?: Row) => {
      requireClient();
      if (!row?.objectId) return;
      const key = await askJson(`Key in ${row.label} (JSON)`, '"name"');
      if (key === undefined) return;
      const value = await askJson(`Value for ${formatValue(key)} (JSON)`, '42');
      if (value === undefined) return;
      await callObject(controller, row.objectId, row.contextValue === ContextValue.Namespace ? '__setattr__' : '__setitem__', [key, value]);
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
      const doc = await vscode.workspace.openTextDocument(JsonDocuments.uriFor(row.objectId, row.label));
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
      const removed = await withObject(controller, row.objectId, async (c) => {
        let taken = 0;
        for (let batch = 0; batch < 1000; batch++) {
          const results = await Promise.allSettled(Array.from({ length: 500 }, () => c.callById(row.objectId!, 'get_nowait')));
          taken += results.filter((r) => r.status === 'fulfilled').length;
          if (results.some((r) => r.status === 'rejected')) break;
        }
        return taken;
      });
      void vscode.window.showInformationMessage(`Removed ${removed} items from ${row.label}.`);
    },
    [Command.RemoveItem]: async (row?: Row) => {
      requireClient();
      if (!row?.objectId || row.index === undefined) return;
      const [objectId, index] = [row.objectId, row.index];
      if (row.contextValue === ContextValue.QueueItem) {
        if (!(await confirm(`Remove item [${index}] ${formatValue(row.value, 200)} from queue #${objectId}? No client will get it.`, 'Remove Item'))) return;
        // The manager removes it only if it is still the item shown (a getter may have taken items meanwhile); a queue nobody holds too.
        await requireClient().inspection.removeQueueItem(objectId, index, row.value);
        return;
      }
      if (!(await confirm(`Remove item [${index}] ${formatValue(row.value, 200)} from list #${objectId}?`, 'Remove Item'))) return;
      await withObject(controller, objectId, async (c) => {
        // Another client may have changed the list since the row was shown: remove the item only if it is still there.
        const now = (await c.inspection.peek(objectId, { offset: index, limit: 1 })).items;
        if (now.length === 0 || JSON.stringify(now[0]) !== JSON.stringify(row.value)) {
          throw new Error(`item [${index}] of list #${objectId} is no longer ${formatValue(row.value, 80)}: nothing was removed`);
        }
        await c.callById(objectId, '__delitem__', [index]);
      });
    },
    [Command.EditItem]: async (row?: Row) => {
      requireClient();
      if (!row?.objectId) return;
      const current = JSON.stringify(row.value);
      // A value with $ tags (a tuple, bytes...) is not offered for editing as text: typed back, it would be a dict.
      const value = await askJson(`New value of ${row.label} in #${row.objectId} (JSON)`, '42', current.includes('"$') ? '' : current);
      if (value === undefined) return;
      if (row.contextValue === ContextValue.ListItem) await callObject(controller, row.objectId, '__setitem__', [row.index, value]);
      else await callObject(controller, row.objectId, row.contextValue === ContextValue.Attribute ? '__setattr__' : '__setitem__', [row.key, value]);
    },
    [Command.PauseActivity]: () => host.activity.setPaused(true),
    [Command.ResumeActivity]: () => host.activity.setPaused(false),
    [Command.ClearActivity]: () => host.activity.clear(),
    [Command.FilterActivity]: async (text?: string) => {
      text ??= await vscode.window.showInputBox({ prompt: 'Show only the calls containing… (client, object, method, arguments, result; empty: all)', value: host.activity.filter ?? '' });
      if (text === undefined) return;
      host.activity.setFilter(text.trim() || undefined);
    },
    [Command.Filter]: async (row?: Row, text?: string) => {
      if (!row?.objectId) return;
      text ??= await vscode.window.showInputBox({
        prompt: `Show only the items of ${row.label} containing… (empty: all of them)`,
        value: host.filterOf(row.objectId) ?? '',
      });
      if (text === undefined) return;
      host.setFilter(row.objectId, text.trim() || undefined);
    },
    [Command.CallMethod]: async (row?: Row, method?: string, argsText?: string) => {
      const client = requireClient();
      if (!row?.objectId) return;
      const summary = (await client.inspection.snapshot()).objects.find((o) => o.id === row.objectId);
      if (!summary) throw new Error(`${row.label} is gone`);
      method ??= (
        await vscode.window.showQuickPick(
          [...(summary.exposed ?? [])].sort().map((m) => ({ label: m })),
          { placeHolder: `Method of ${row.label} to call`, matchOnDescription: true },
        )
      )?.label;
      if (method === undefined) return;
      argsText ??= await vscode.window.showInputBox({
        prompt: `Arguments of ${method}() on ${row.label}, as a JSON array (a blocking call such as get() on an empty queue waits)`,
        value: '[]',
        validateInput: (t) => {
          const parsed = parseJsonInput(t);
          return parsed.error ?? (Array.isArray(parsed.value) ? undefined : 'the arguments must be a JSON array: [] or [1, "two"]');
        },
      });
      if (argsText === undefined) return;
      const args = JSON.parse(argsText) as unknown[];
      const call = `${method}(${args.map((a) => formatValue(a, 60)).join(', ')}) on ${row.label}`;
      try {
        const result = await callObject(controller, row.objectId, method, args);
        output.appendLine(`${call} → ${formatJson(result)}`);
        void vscode.window.showInformationMessage(`${call} → ${formatValue(result, 500)}`);
        return { result };
      } catch (error) {
        const { name, message } = error as Error;
        output.appendLine(`${call} raised ${name}: ${message}`);
        void vscode.window.showErrorMessage(`${call} raised ${name}: ${message}`);
        return { error: { name, message } };
      }
    },
    [Command.DeleteKey]: async (row?: Row) => {
      requireClient();
      if (!row?.objectId) return;
      if (!(await confirm(`Delete ${row.label} from #${row.objectId}? Its value ${formatValue(row.value, 200)} is lost.`, 'Delete'))) return;
      await callObject(controller, row.objectId, row.contextValue === ContextValue.Attribute ? '__delattr__' : '__delitem__', [row.key]);
    },
  };

  return (Object.keys(handlers) as Command[]).map((id) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (handlers[id] as (...a: unknown[]) => unknown)(...args);
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

/** The ids of every command registered here, which are all the {@link Command} values (the handler table's type says so). */
export const allCommands: readonly Command[] = Object.values(Command);
