/**
 * The `syncmanager.register` setting and a running manager kept in step. Typeids added to the
 * setting are registered with the manager started here at once (`serve --registrations-on-stdin`),
 * so nothing it holds is lost; a typeid changed or removed needs a restart (which keeps what the
 * shared objects hold, through the manager's state file), so the user is asked. Also the first-run helpers that add to the setting: the
 * seed's two queues, or one shared queue.
 */

import * as vscode from 'vscode';
import { Command, Setting } from './ids';
import type { ManagerController } from './managerController';
import { registrationChanges, registrationsOf } from './model/registrations';

/** Applies the setting to the running manager, one change at a time. */
export class RegisterSetting implements vscode.Disposable {
  private applying: Promise<void> = Promise.resolve();
  private readonly listener: vscode.Disposable;

  constructor(
    private readonly controller: ManagerController,
    private readonly log: (line: string) => void,
  ) {
    this.listener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${Setting.Section}.${Setting.Register}`)) void this.apply().catch(() => {});
    });
  }

  /** The setting's registrations (checked). */
  wanted(): Map<string, string> {
    return registrationsOf(vscode.workspace.getConfiguration(Setting.Section).get(Setting.Register));
  }

  /** Brings the manager started here in step with the setting; resolves when done (or the user answered). */
  apply(): Promise<void> {
    const run = () => this.applyNow();
    this.applying = this.applying.then(run, run);
    return this.applying;
  }

  /**
   * Adds typeids to the setting (the workspace's settings when a folder is open) and applies them.
   * A typeid already in the setting keeps its type.
   */
  async add(entries: Readonly<Record<string, string>>): Promise<void> {
    const config = vscode.workspace.getConfiguration(Setting.Section);
    const current = config.get<Record<string, string>>(Setting.Register) ?? {};
    const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await config.update(Setting.Register, { ...entries, ...current }, target);
    await this.apply();
  }

  dispose(): void {
    this.listener.dispose();
  }

  private async applyNow(): Promise<void> {
    if (this.controller.state !== 'running') return;
    let wanted: Map<string, string>;
    try {
      wanted = this.wanted();
    } catch (error) {
      void vscode.window.showErrorMessage(`syncmanager: ${(error as Error).message}`);
      return;
    }
    const { added, changed, removed } = registrationChanges(this.controller.servedRegistrations, wanted);
    for (const typeid of added) {
      try {
        await this.controller.register(typeid, wanted.get(typeid)!);
        this.log(`now serving ${wanted.get(typeid)} (added to syncmanager.register)`);
      } catch (error) {
        this.log(`cannot serve ${wanted.get(typeid)}: ${(error as Error).message}`);
        void vscode.window.showErrorMessage(`syncmanager: cannot serve ${typeid}: ${(error as Error).message}`);
      }
    }
    if (changed.length === 0 && removed.length === 0) return;
    const what = [...changed.map((t) => `${t} changed`), ...removed.map((t) => `${t} removed`)].join(', ');
    const choice = await vscode.window.showWarningMessage(
      `syncmanager.register: ${what}. The running manager serves them as before until it restarts; a restart keeps what the shared objects hold (one whose type changed starts empty, its old contents kept in the state file).`,
      'Restart Manager',
      'Later',
    );
    if (choice === 'Restart Manager') await vscode.commands.executeCommand(Command.Restart);
  }
}
