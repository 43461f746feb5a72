/**
 * The extension's commands: lifecycle (start, stop, restart, attach, detach), connection info and
 * worker terminals, and the sidebar's item actions (put, set key, peek, copy, open as JSON, clear,
 * delete). Each validates its input and says clearly what went wrong.
 */

import * as vscode from 'vscode';
import type { ActivityView } from './activityView';
import { randomAuthkey } from '../common/authkey';
import { parseAddress } from '../common/address';
import { ADDRESS_VARIABLE, AUTHKEY_VARIABLE } from '../common/environmentVariables';
import { decodeValue } from '../common/valueCodec';
import { findConfigFile } from '../common/configFiles';
import { attachTlsOptions, type AttachTlsSetting } from './attachTls';
import { Command, ContextValue, SecretPrefix, Setting } from './ids';
import { JsonDocuments } from './jsonDocuments';
import type { ManagerController } from './managerController';
import { callObject, withObject } from './objectCalls';
import type { Row } from './model/treeModel';
import { SEED_QUEUES, TYPEID_PATTERN } from './model/registrations';
import { formatJson, formatValue } from './model/valueFormat';
import type { RegisterSetting } from './registerSetting';
import { SET_STORE_PASSWORD, StoreAuthError, type StorePasswords } from './storePasswords';

/** What the commands need from the extension. */
export interface CommandHost {
  readonly context: vscode.ExtensionContext;
  readonly controller: ManagerController;
  readonly output: vscode.OutputChannel;
  readonly registerSetting: RegisterSetting;
  /** The store's password in the secret storage. */
  readonly storePasswords: StorePasswords;
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
  return `${SecretPrefix.Authkey}:${vscode.workspace.workspaceFolders?.[0]?.uri.toString() ?? 'no-folder'}`;
}

/** Parses JSON typed by the user into a wire value; undefined (with a message) when it is not JSON. */
function parseJsonInput(text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}. Strings need quotes: "text"` };
  }
}

/** Why `text` is not a value in wire form (JSON whose `$` tags are valid), or undefined when it is one. */
function wireValueError(text: string): string | undefined {
  const parsed = parseJsonInput(text);
  if (parsed.error) return parsed.error;
  try {
    decodeValue(parsed.value, { decodeProxy: (token) => token });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function askJson(prompt: string, placeHolder: string, value?: string): Promise<unknown | undefined> {
  const text = await vscode.window.showInputBox({ prompt, placeHolder, value, validateInput: (t) => parseJsonInput(t).error });
  return text === undefined ? undefined : parseJsonInput(text).value;
}

/** The button of Stop Manager's question. */
const STOP_AND_DISCARD = 'Stop and Discard';

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

  /** Starts a manager; `previous` is the address of the one a restart stopped, kept when the setting leaves the port free (`:0`). */
  const start = async (previous?: string) => {
    const setting = config().get<string>(Setting.Address, '127.0.0.1:0');
    const parsed = parseAddress(setting);
    // The same port again, so workers (and the terminals' SYNCMANAGER_ADDRESS) reach the new manager.
    const address = previous !== undefined && parsed.kind === 'tcp' && parsed.port === 0 ? previous : setting;
    const register = [...host.registerSetting.wanted().values()];
    const configured = config().get<string>(Setting.ConfigFile, '');
    const configFile = configured ? (folder() ? vscode.Uri.joinPath(vscode.Uri.file(folder()!), configured).fsPath : configured) : undefined;
    const authkey = await workspaceAuthkey(context);
    // The setting, with the password in the secret storage added: it goes by environment, never in settings or argv.
    const store = await host.storePasswords.launchStore();
    const storePrefix = config().get<string>(Setting.StorePrefix, '') || undefined;
    const storeLeaseSeconds = config().get<number>(Setting.StoreLease);
    // A Redis store keeps the objects itself; the state file keeps the in-memory store's across restarts.
    const stateFile = store ? undefined : await managerStateFile();
    await vscode.window
      .withProgress({ location: vscode.ProgressLocation.Notification, title: 'Starting the syncmanager manager…' }, () =>
        controller.start({ address, authkey, register, configFile: configFile ?? autoConfig(), stateFile, cwd: folder(), store, storePrefix, storeLeaseSeconds }),
      )
      .then(undefined, (error: unknown) => {
        throw host.storePasswords.explainFailure(error, store);
      });
    output.appendLine(`manager running on ${controller.address}`);
  };

  /** Where the manager started here keeps its shared objects across a restart: the workspace's storage (else the extension's). */
  const managerStateFile = async () => {
    const storage = context.storageUri ?? context.globalStorageUri;
    await vscode.workspace.fs.createDirectory(storage);
    return vscode.Uri.joinPath(storage, 'manager-state.json').fsPath;
  };

  /** Stop Manager: asks first when clients are connected or items are queued, since stopping discards them. */
  const stop = async () => {
    const discards = await controller.whatStopDiscards().catch(() => undefined);
    if (discards && (discards.clients > 0 || discards.items > 0)) {
      const parts = [
        ...(discards.clients > 0 ? [`${discards.clients} client${discards.clients === 1 ? ' is' : 's are'} connected`] : []),
        ...(discards.items > 0 ? [`${discards.items} item${discards.items === 1 ? ' is' : 's are'} queued in ${discards.queues} queue${discards.queues === 1 ? '' : 's'}`] : []),
      ];
      const message = `Stop the syncmanager manager? ${parts.join(' and ')}. Stopping discards what its shared objects hold and ends those connections; Restart Manager keeps the objects' contents.`;
      if (!(await confirm(message, STOP_AND_DISCARD))) return;
    }
    await controller.stop();
  };

  /** A config module in the workspace root, unless a config file is set. */
  const autoConfig = () => {
    const root = folder();
    return root ? findConfigFile(root) : undefined;
  };

  const handlers: CommandHandlers = {
    [Command.Start]: () => start(),
    [Command.Stop]: stop,
    [Command.Restart]: async () => {
      // The manager saves its shared objects as it stops, and the new one restores them on the same address.
      const previous = controller.owned ? controller.address : undefined;
      await controller.stop({ keep: true });
      try {
        await start(previous);
      } catch (error) {
        if (previous === undefined) throw error;
        output.appendLine(`cannot start on ${previous} again (${(error as Error).message}); starting on the setting's address`);
        await start();
      }
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
      await vscode.env.clipboard.writeText(`export ${ADDRESS_VARIABLE}=${controller.address} ${AUTHKEY_VARIABLE}=${controller.authkey}`);
      void vscode.window.showInformationMessage(`Copied: export ${ADDRESS_VARIABLE}=${controller.address} ${AUTHKEY_VARIABLE}=…`);
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
    [Command.SetStorePassword]: () => host.storePasswords.setPassword(),
    [Command.ClearStorePassword]: () => host.storePasswords.clearPassword(),
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
      const queue = row.contextValue === ContextValue.QueueItem;
      const question = `Remove item [${row.index}] ${formatValue(row.value, 200)} from ${queue ? 'queue' : 'list'} #${row.objectId}?${queue ? ' No client will get it.' : ''}`;
      if (!(await confirm(question, 'Remove Item'))) return;
      // The manager removes it only if it is still the item shown (a getter may have taken items, or a client changed
      // the list, meanwhile); of an object nobody holds too.
      await requireClient().inspection.removeItem(row.objectId, row.index, row.value);
    },
    [Command.EditItem]: async (row?: Row) => {
      requireClient();
      if (!row?.objectId) return;
      const current = JSON.stringify(row.value);
      if ((row.contextValue === ContextValue.QueueItem || row.contextValue === ContextValue.ListItem) && row.index !== undefined) {
        // The item is sent back in wire form, as shown ($ tags and all: a tuple stays a tuple). The manager replaces it
        // only if it is still the item shown, so an item a getter took (or that moved) meanwhile is never replaced by another.
        const text = await vscode.window.showInputBox({
          prompt: `New value of item [${row.index}] of ${row.contextValue === ContextValue.QueueItem ? 'queue' : 'list'} #${row.objectId} (JSON; $ tags as shown, such as {"$tuple": [1, 2]})`,
          value: current,
          validateInput: wireValueError,
        });
        if (text === undefined) return;
        await requireClient().inspection.replaceItem(row.objectId, row.index, row.value, JSON.parse(text));
        return;
      }
      // A value with $ tags (a tuple, bytes...) is not offered for editing as text: typed back, it would be a dict.
      const value = await askJson(`New value of ${row.label} in #${row.objectId} (JSON)`, '42', current.includes('"$') ? '' : current);
      if (value === undefined) return;
      await callObject(controller, row.objectId, row.contextValue === ContextValue.Attribute ? '__setattr__' : '__setitem__', [row.key, value]);
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
        // A refused store password offers to set it; everything else, the log.
        const offer = error instanceof StoreAuthError ? [SET_STORE_PASSWORD] : [];
        void vscode.window.showErrorMessage(`syncmanager: ${message}`, ...offer, 'Show Log').then((choice) => {
          if (choice === SET_STORE_PASSWORD) void vscode.commands.executeCommand(Command.SetStorePassword);
          else if (choice) output.show();
        });
        // Tests drive commands directly and need to see the failure.
        throw error;
      }
    }),
  );
}

/** The ids of every command registered here, which are all the {@link Command} values (the handler table's type says so). */
export const allCommands: readonly Command[] = Object.values(Command);
