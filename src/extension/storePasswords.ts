/**
 * The `syncmanager.store` setting's Redis password in VS Code's secret storage, as the workspace's authkey is: set
 * and cleared by commands, added to the URL the manager is started with (by environment, as the whole URL is), and
 * out of settings.json, which is often committed. A setting that holds a password itself is warned of once per
 * window, with an offer to move the password. When Redis refuses the password, the error says so and offers to set
 * it. The rules (secret names, URLs with and without a password) are model/storeCredentials.ts's.
 */

import * as vscode from 'vscode';
import { Setting } from './ids';
import { hidePassword, mergeStorePassword, passwordOf, storeAuthRefusal, storeSecretName, storeServerShown, withoutPassword } from './model/storeCredentials';

/** The command's title, and the button of the messages that offer it. */
export const SET_STORE_PASSWORD = 'Set Store Password…';

/** The button of the warning about a password in the setting. */
export const MOVE_TO_SECRET_STORAGE = 'Move to Secret Storage';

/** Redis refused the store's password (or wanted one): the message says which server, never the password. */
export class StoreAuthError extends Error {}

const config = () => vscode.workspace.getConfiguration(Setting.Section);

/** The setting's places a password can be moved out of (the setting is not per folder). */
const TARGETS = [
  ['globalValue', vscode.ConfigurationTarget.Global, 'user settings'],
  ['workspaceValue', vscode.ConfigurationTarget.Workspace, 'workspace settings'],
] as const;

/** The store's passwords in VS Code's secret storage. */
export class StorePasswords implements vscode.Disposable {
  /** The settings (without their password) already warned of in this window. */
  private readonly warned = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly log: (line: string) => void,
  ) {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${Setting.Section}.${Setting.Store}`)) void this.warnIfInSettings();
    });
  }

  private setting(): string {
    return config().get<string>(Setting.Store, '');
  }

  /**
   * The store URL to start a manager with (undefined: its own memory): the setting, with the stored password
   * added when the setting carries none.
   */
  async launchStore(): Promise<string | undefined> {
    const setting = this.setting();
    if (!setting) return undefined;
    void this.warnIfInSettings();
    const name = storeSecretName(setting);
    const stored = name && passwordOf(setting) === undefined ? await this.secrets.get(name) : undefined;
    if (stored) this.log(`the password of ${storeServerShown(setting)} comes from VS Code's secret storage`);
    return mergeStorePassword(setting, stored);
  }

  /**
   * A start's failure as the user should read it: when Redis refused the password (or wanted one), a
   * {@link StoreAuthError} saying so; any other failure as it is, cleared of the password.
   */
  explainFailure(error: unknown, store: string | undefined): Error {
    const password = passwordOf(store);
    const message = hidePassword(error instanceof Error ? error.message : String(error), password);
    const refusal = store ? storeAuthRefusal(message) : undefined;
    if (!store || !refusal) return error instanceof Error && message === error.message ? error : new Error(message);
    const server = storeServerShown(store);
    if (refusal === 'none given' || password === undefined) {
      return new StoreAuthError(`Redis at ${server} requires a password: give it with ${SET_STORE_PASSWORD} (kept in VS Code's secret storage, not in settings).`);
    }
    const from = passwordOf(this.setting()) !== undefined ? 'the syncmanager.store setting' : "VS Code's secret storage";
    return new StoreAuthError(`Redis at ${server} refused the password from ${from}: give the right one with ${SET_STORE_PASSWORD}`);
  }

  /** Warns, once per window for each setting, that the setting holds a password; offers to move it. */
  async warnIfInSettings(): Promise<void> {
    const setting = this.setting();
    if (passwordOf(setting) === undefined || this.warned.has(withoutPassword(setting))) return;
    this.warned.add(withoutPassword(setting));
    const choice = await vscode.window.showWarningMessage(
      `The syncmanager.store setting holds the password of ${storeServerShown(setting)} in plain text, in a settings file that may be shared or committed. Move it to VS Code's secret storage? The setting becomes ${withoutPassword(setting)}.`,
      MOVE_TO_SECRET_STORAGE,
    );
    if (choice === MOVE_TO_SECRET_STORAGE) await this.moveToSecretStorage();
  }

  /** Moves the password out of every settings file whose syncmanager.store holds one, into the secret storage. */
  async moveToSecretStorage(): Promise<void> {
    await this.removeFromSettings(async (value, password) => {
      await this.secrets.store(storeSecretName(value)!, password);
    });
    void vscode.window.showInformationMessage(`The store's password is in VS Code's secret storage now; syncmanager.store is ${this.setting()}.`);
  }

  /** Set Store Password: asks for the password of the setting's Redis and keeps it in the secret storage. */
  async setPassword(): Promise<void> {
    const setting = this.requireRedisSetting();
    const server = storeServerShown(setting);
    const password = await vscode.window.showInputBox({
      prompt: `Password of ${server} (kept in VS Code's secret storage, used from the next start; an ACL user goes in the setting: redis://USER@HOST:PORT/DB)`,
      password: true,
      ignoreFocusOut: true,
      validateInput: (t) => (t ? undefined : 'the password cannot be empty'),
    });
    if (password === undefined) return;
    // The setting's own password would win over the one given now: it goes.
    await this.removeFromSettings(async () => {});
    await this.secrets.store(storeSecretName(setting)!, password);
    this.log(`the password of ${server} is kept in VS Code's secret storage`);
    void vscode.window.showInformationMessage(`The password of ${server} is in VS Code's secret storage: the next Start Manager uses it.`);
  }

  /** Clear Store Password: forgets the stored password of the setting's Redis. */
  async clearPassword(): Promise<void> {
    const setting = this.requireRedisSetting();
    const name = storeSecretName(setting)!;
    const server = storeServerShown(setting);
    const had = (await this.secrets.get(name)) !== undefined;
    await this.secrets.delete(name);
    if (had) this.log(`the password of ${server} is removed from VS Code's secret storage`);
    void vscode.window.showInformationMessage(had ? `Removed the password of ${server} from VS Code's secret storage.` : `VS Code's secret storage holds no password for ${server}.`);
  }

  dispose(): void {
    this.subscription.dispose();
  }

  private requireRedisSetting(): string {
    const setting = this.setting();
    if (!storeSecretName(setting)) throw new Error('The syncmanager.store setting names no Redis: set it to redis://HOST:PORT/DB first.');
    return withoutPassword(setting);
  }

  /** Rewrites each settings file whose syncmanager.store holds a password without it, after `keep` had it. */
  private async removeFromSettings(keep: (value: string, password: string) => Promise<void>): Promise<void> {
    const inspected = config().inspect<string>(Setting.Store);
    for (const [key, target, where] of TARGETS) {
      const value = inspected?.[key];
      const password = passwordOf(value);
      if (value === undefined || password === undefined) continue;
      await keep(value, password);
      await config().update(Setting.Store, withoutPassword(value), target);
      this.warned.add(withoutPassword(value));
      this.log(`the password of ${storeServerShown(value)} is removed from syncmanager.store in the ${where}`);
    }
  }
}
