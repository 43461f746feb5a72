/** The status bar item: state and address (`$(server) syncmanager :50000 · 3 clients`); click for the actions. */

import * as vscode from 'vscode';
import { Command } from './ids';
import type { ManagerController } from './managerController';
import { clientCount } from './model/treeModel';

/** Shows the manager's state in the status bar. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('syncmanager.status', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private clients = 0;

  /**
   * @param onCount told the number of clients each time it is counted (the Clients view shows the same number).
   */
  constructor(
    private readonly controller: ManagerController,
    private readonly onCount: (clients: number | undefined) => void = () => {},
  ) {
    this.item.name = 'syncmanager';
    this.item.command = Command.ShowActions;
    this.disposables.push(
      controller.onDidChangeState((state) => {
        this.update();
        if (state === 'stopped') this.onCount(undefined);
        // Count once per (re)connection; update() must not, or countClients() → update() → countClients() loops forever.
        if (state === 'running' || state === 'attached') void this.countClients();
      }),
      controller.onDidChange((change) => {
        if (change.sessions) void this.countClients();
      }),
    );
    this.update();
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private async countClients(): Promise<void> {
    try {
      const snapshot = await this.controller.snapshot();
      // The sidebar's own connection is not a client of interest.
      this.clients = clientCount(snapshot, this.controller.client?.sessionId);
    } catch {
      this.clients = 0;
    }
    this.update();
    this.onCount(this.controller.client ? this.clients : undefined);
  }

  private update(): void {
    const { state, address } = this.controller;
    const port = address && /:(\d+)$/.exec(address)?.[1];
    const where = port ? `:${port}` : (address ?? '');
    switch (state) {
      case 'starting':
        this.item.text = '$(loading~spin) syncmanager starting…';
        this.item.tooltip = 'Starting the manager';
        break;
      case 'stopping':
        this.item.text = '$(loading~spin) syncmanager stopping…';
        this.item.tooltip = 'Stopping the manager';
        break;
      case 'running':
      case 'attached':
        this.item.text = `$(server) syncmanager ${where} · ${this.clients} client${this.clients === 1 ? '' : 's'}`;
        this.item.tooltip = `${state === 'running' ? 'Manager running' : 'Attached to the manager'} at ${address}. Click for actions.`;
        break;
      default:
        this.item.text = '$(circle-slash) syncmanager';
        this.item.tooltip = 'No manager. Click to start one or attach.';
    }
  }
}
