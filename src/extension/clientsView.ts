/**
 * The Clients view: connected clients (name, pid, address, protocol), the objects each holds and
 * the calls each is blocked in ("get on get_task_queue, 2.1 s"); for a group of managers on one
 * Redis store, the clients of every manager, under their manager, and the resumable sessions whose
 * manager died, under "Kept by the group".
 */

import * as vscode from 'vscode';
import type { ManagerController } from './managerController';
import type { InspectGroup } from '../common/protocol';
import { clientRootRows, GROUP_REFRESH_MS, inGroup, keptSessionRows, managerClientRows } from './model/groupRows';
import { sessionDetailRows, type Row } from './model/treeModel';
import { toTreeItem } from './treeItems';

/** The tree data provider of the Clients view. */
export class ClientsView implements vscode.TreeDataProvider<Row>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Row | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  /** The group as the last refresh read it: manager rows' children come from it. */
  private group: InspectGroup | undefined;

  constructor(private readonly controller: ManagerController) {
    this.disposables.push(
      controller.onDidChangeState(() => this.emitter.fire(undefined)),
      controller.onDidChange((change) => {
        // References change with objects; waiting calls change with sessions.
        if (change.sessions || change.added.length || change.removed.length || change.changed.length) this.refreshIn(200);
      }),
    );
  }

  getTreeItem(row: Row): vscode.TreeItem {
    return toTreeItem(row);
  }

  async getChildren(row?: Row): Promise<Row[]> {
    if (!this.controller.client) return [];
    const snapshot = await this.controller.snapshot();
    const own = this.controller.client.sessionId;
    if (!row) {
      this.group = await this.controller.group();
      // Waiting calls show how long they have waited: tick once a second while there are any. VS Code asks for
      // children only while the view is visible, so a hidden view stops the ticking.
      if (snapshot.sessions.some((s) => s.pending.length > 0)) this.refreshIn(1000);
      // The other managers of a group send no notifications here: their clients are read again every few seconds.
      else if (inGroup(this.group)) this.refreshIn(GROUP_REFRESH_MS);
      return clientRootRows(snapshot, this.group, own);
    }
    if (row.kind === 'manager' && this.group) return managerClientRows(snapshot, this.group, row.managerId!, own);
    if (row.kind === 'keptSessions' && this.group) return keptSessionRows(this.group);
    if (row.kind === 'session') return sessionDetailRows(snapshot, row.sessionId!);
    return [];
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.emitter.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /** Refreshes the view in `ms`, or sooner if a refresh is already due sooner. */
  private refreshIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.emitter.fire(undefined);
    }, ms);
  }
}
