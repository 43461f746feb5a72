/**
 * Debug sessions get the manager's connection. Terminals get it through the environment variable
 * collection, but a launch configuration's debuggee is started by its debug adapter, and in
 * `internalConsole` mode (VS Code's default for Node) no terminal is involved at all. So a debug
 * configuration provider for every debug type adds SYNCMANAGER_ADDRESS and SYNCMANAGER_AUTHKEY to
 * the `env` of each launch configuration, keeping any value the configuration sets itself.
 * Configurations that want the values elsewhere (arguments, another variable name) use
 * `${command:syncmanager.address}` and `${command:syncmanager.authkey}`.
 */

import * as vscode from 'vscode';
import { Setting } from './ids';
import type { ManagerController } from './managerController';

/** Adds the manager's connection to launch configurations, unless `syncmanager.debug.addEnvironment` is off. */
export class DebugEnvironment implements vscode.DebugConfigurationProvider {
  constructor(private readonly controller: ManagerController) {}

  /** Registers the provider for every debug type. */
  static register(controller: ManagerController): vscode.Disposable {
    return vscode.debug.registerDebugConfigurationProvider('*', new DebugEnvironment(controller));
  }

  /**
   * After variables are substituted, so that `${env:…}` or `${command:…}` values the user wrote are
   * final and win over ours; every debug adapter's own resolver has run by then too.
   */
  resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration {
    const connection = this.controller.connectionEnvironment();
    if (!connection || config.request !== 'launch') return config;
    if (!vscode.workspace.getConfiguration(Setting.Section, folder).get<boolean>(Setting.DebugAddEnvironment, true)) return config;
    const own = config.env && typeof config.env === 'object' ? (config.env as Record<string, string | null>) : {};
    return { ...config, env: { ...connection, ...own } };
  }
}
