/**
 * The Activity view: the calls clients make, newest first (client, object, method, arguments and
 * result, duration), from the manager's `inspect/calls` notifications (SPEC 17.8). The view asks
 * the manager for calls only while it is visible and not paused, so a manager nobody watches pays
 * nothing for it; it keeps the most recent {@link ACTIVITY_ROWS_KEPT} calls.
 */

import * as vscode from 'vscode';
import type { InspectionSubscription } from '../client';
import type { CallRecord, InspectCallsParams } from '../common/protocol';
import { ContextKey, ContextValue } from './ids';
import type { ManagerController } from './managerController';

/** Calls the view keeps (older ones leave it). */
export const ACTIVITY_ROWS_KEPT = 500;

/** One call, as the view shows it. */
export interface ActivityRow {
  readonly call: CallRecord;
  /** The calling client's name (or its session id when it gave none). */
  readonly client: string;
  /** `method on typeid #id`. */
  readonly label: string;
  /** `client · args → result · 1.2 ms`. */
  readonly description: string;
}

/** How long a call took, for people. */
function duration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The rows of calls that ended, given each session's client name. */
export function activityRow(call: CallRecord, client: string): ActivityRow {
  const outcome = call.error !== undefined ? `raised ${call.error}` : `→ ${call.result}`;
  return {
    call,
    client,
    label: `${call.method} on ${call.typeid} #${call.objectId}`,
    description: `${client} · ${call.args} ${outcome} · ${duration(call.durationMs)}`,
  };
}

/** The tree data provider of the Activity view. */
export class ActivityView implements vscode.TreeDataProvider<ActivityRow>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ActivityRow | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  /** Newest first. */
  private rows: ActivityRow[] = [];
  private filterText: string | undefined;
  private paused = false;
  private visible = false;
  private watching: Promise<InspectionSubscription | undefined> | undefined;
  private watchedClient: unknown;
  private dropped = 0;
  private treeView: vscode.TreeView<ActivityRow> | undefined;

  constructor(private readonly controller: ManagerController) {
    this.disposables.push(controller.onDidChangeState(() => this.update()));
    void vscode.commands.executeCommand('setContext', ContextKey.ActivityPaused, false);
  }

  /** Connects the view's visibility: calls are watched only while it shows. */
  attach(treeView: vscode.TreeView<ActivityRow>): void {
    this.treeView = treeView;
    this.visible = treeView.visible;
    this.disposables.push(
      treeView.onDidChangeVisibility((e) => {
        this.visible = e.visible;
        this.update();
      }),
    );
    this.update();
  }

  /** Whether the manager is sending calls to the view now. */
  get isWatching(): boolean {
    return this.watching !== undefined;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get filter(): string | undefined {
    return this.filterText;
  }

  /** The rows shown (filtered), newest first. */
  shownRows(): ActivityRow[] {
    const f = this.filterText?.toLowerCase();
    return f ? this.rows.filter((r) => `${r.label} ${r.description}`.toLowerCase().includes(f)) : [...this.rows];
  }

  setPaused(paused: boolean): Promise<void> {
    this.paused = paused;
    void vscode.commands.executeCommand('setContext', ContextKey.ActivityPaused, paused);
    this.updateTitle();
    return this.update();
  }

  setFilter(text: string | undefined): void {
    this.filterText = text || undefined;
    this.updateTitle();
    this.emitter.fire(undefined);
  }

  clear(): void {
    this.rows = [];
    this.dropped = 0;
    this.updateTitle();
    this.emitter.fire(undefined);
  }

  getTreeItem(row: ActivityRow): vscode.TreeItem {
    const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.None);
    item.description = row.description;
    item.contextValue = ContextValue.Call;
    item.iconPath = new vscode.ThemeIcon(row.call.error !== undefined ? 'error' : 'arrow-swap');
    const when = new Date(row.call.startedAt).toLocaleTimeString();
    item.tooltip = `${row.client} (session ${row.call.sessionId}) at ${when}\n${row.label}\nargs: ${row.call.args}\n${row.call.error !== undefined ? `error: ${row.call.error}` : `result: ${row.call.result}`}\n${duration(row.call.durationMs)}`;
    return item;
  }

  getChildren(row?: ActivityRow): ActivityRow[] {
    return row ? [] : this.shownRows();
  }

  dispose(): void {
    void this.stopWatching();
    this.emitter.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /** Watches calls when the view shows, is not paused and a manager is there; stops otherwise. */
  private async update(): Promise<void> {
    const client = this.controller.client;
    const want = this.visible && !this.paused && client !== undefined;
    if (this.watching && (!want || this.watchedClient !== client)) await this.stopWatching();
    if (want && !this.watching) {
      this.watchedClient = client;
      this.watching = client!.inspection.watchCalls((n) => void this.received(n)).catch(() => undefined);
      await this.watching;
    }
  }

  private async stopWatching(): Promise<void> {
    const watching = this.watching;
    this.watching = undefined;
    this.watchedClient = undefined;
    await (await watching)?.dispose();
  }

  private async received(n: InspectCallsParams): Promise<void> {
    // Client names come from the snapshot (cached by the controller for the sidebar's views).
    let names = new Map<string, string>();
    try {
      const snapshot = await this.controller.snapshot();
      names = new Map(snapshot.sessions.map((s) => [s.sessionId, s.clientInfo?.name ?? s.sessionId]));
    } catch {
      // No snapshot (the manager is going away): session ids will do.
    }
    if (this.paused) return;
    const added = n.calls.map((call) => activityRow(call, names.get(call.sessionId) ?? call.sessionId)).reverse();
    this.rows = [...added, ...this.rows].slice(0, ACTIVITY_ROWS_KEPT);
    this.dropped += n.dropped;
    this.updateTitle();
    this.emitter.fire(undefined);
  }

  private updateTitle(): void {
    if (!this.treeView) return;
    const parts: string[] = [];
    if (this.paused) parts.push('paused');
    if (this.filterText) parts.push(`filter: ${this.filterText}`);
    if (this.dropped) parts.push(`${this.dropped} not shown (too many at once)`);
    this.treeView.description = parts.length ? parts.join(' · ') : undefined;
  }
}
