/**
 * The Objects view: registered typeids → live objects → their contents, paged. Refreshes only the
 * rows the manager reports changed, so expansion and selection survive, and nothing polls.
 */

import * as vscode from 'vscode';
import type { PeekResult } from '../common/protocol';
import { ContextKey, ContextValue } from './ids';
import type { ManagerController } from './managerController';
import { elsewhereRootRow, elsewhereRows, GROUP_REFRESH_MS, inGroup, withGroupNotes } from './model/groupRows';
import { contentRows, FILTER_SCAN_LIMIT, filteredRows, nestedRows, objectRows, PAGE_SIZE, showsState, stateRows, typeidRows, type Row } from './model/treeModel';
import { toTreeItem } from './treeItems';

/** The tree data provider of the Objects view. */
export class ObjectsView implements vscode.TreeDataProvider<Row>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Row | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  /** Rows last handed to VS Code, by id: a narrow refresh must fire the same element. */
  private readonly rows = new Map<string, Row>();
  private readonly disposables: vscode.Disposable[] = [];
  private pendingChange: { ids: Set<string>; all: boolean } = { ids: new Set(), all: false };
  private timer: NodeJS.Timeout | undefined;
  /** Reads the group again while the view shows one (see {@link roots}). */
  private groupTimer: NodeJS.Timeout | undefined;
  /** What the root's "Elsewhere in the group" row last said: a change refreshes the root. */
  private elsewhereShown: string | undefined;
  /** Filter text by object id. */
  private readonly filters = new Map<string, string>();

  constructor(private readonly controller: ManagerController) {
    this.disposables.push(
      controller.onDidChangeState(() => this.refresh()),
      controller.onDidChange((change) => {
        if (change.added.length || change.removed.length || change.typeids) this.pendingChange.all = true;
        for (const id of change.changed) this.pendingChange.ids.add(id);
        this.schedule();
      }),
    );
  }

  /** Refreshes the whole tree. */
  refresh(): void {
    this.rows.clear();
    this.emitter.fire(undefined);
  }

  /** The object rows of a typeid; in a group, objects of user-registered classes say they live in this manager only. */
  private async objectsOf(typeid: string): Promise<Row[]> {
    const snapshot = await this.controller.snapshot();
    const rows = objectRows(snapshot, typeid);
    // Only such objects need the group, which is read from the store.
    const custom = snapshot.objects.some((o) => o.typeid === typeid && o.builtin === undefined);
    return custom ? withGroupNotes(rows, snapshot, await this.controller.group()) : rows;
  }

  /** The typeids, and in a group of managers the group's objects this manager has not served. */
  private async roots(): Promise<Row[]> {
    const [snapshot, group] = await Promise.all([this.controller.snapshot(), this.controller.group()]);
    const roots = typeidRows(snapshot);
    const elsewhere = elsewhereRootRow(snapshot, group);
    this.elsewhereShown = elsewhere?.description;
    // Objects made through the group's other managers come with no notification here: read the group again while it is shown.
    if (inGroup(group)) this.watchGroup();
    return elsewhere ? [...roots, elsewhere] : roots;
  }

  /** In a group: reads it again in a few seconds, and refreshes the root if what is elsewhere changed. */
  private watchGroup(): void {
    if (this.groupTimer) return;
    this.groupTimer = setTimeout(async () => {
      this.groupTimer = undefined;
      if (!this.controller.client) return;
      try {
        const [snapshot, group] = await Promise.all([this.controller.snapshot(), this.controller.group()]);
        const elsewhere = elsewhereRootRow(snapshot, group);
        if (elsewhere?.description !== this.elsewhereShown) this.refresh();
        else {
          // The same row VS Code was given, or nothing: firing undefined would refresh the whole tree.
          const shown = elsewhere && this.rows.get(elsewhere.id);
          if (shown) this.emitter.fire(shown);
        }
        if (inGroup(group)) this.watchGroup();
      } catch {
        // The manager is gone or busy: the next state change refreshes the view.
      }
    }, GROUP_REFRESH_MS);
  }

  private async elsewhere(): Promise<Row[]> {
    const [snapshot, group] = await Promise.all([this.controller.snapshot(), this.controller.group()]);
    return inGroup(group) ? elsewhereRows(snapshot, group) : [];
  }

  getTreeItem(row: Row): vscode.TreeItem {
    return toTreeItem(row);
  }

  async getChildren(row?: Row): Promise<Row[]> {
    if (!this.controller.client) return [];
    let children: Row[];
    try {
      if (!row) children = await this.roots();
      else if (row.kind === 'elsewhere') children = await this.elsewhere();
      else if (row.kind === 'typeid') children = await this.objectsOf(row.typeid!);
      else if (row.kind === 'object' || row.kind === 'more' || (row.kind === 'groupObject' && row.expandable)) children = await this.page(row.objectId!, row.kind === 'more' ? row.offset! : 0, row.builtin);
      else if (row.kind === 'item') children = nestedRows(row);
      else children = [];
    } catch (error) {
      children = [{ id: `error:${row?.id ?? 'root'}`, kind: 'message', label: `cannot read: ${(error as Error).message}`, icon: 'warning', contextValue: ContextValue.Message, expandable: false }];
    }
    for (const child of children) this.rows.set(child.id, child);
    if (!row) void vscode.commands.executeCommand('setContext', ContextKey.ServesNothing, children.length === 0);
    return children;
  }

  getParent(): undefined {
    return undefined;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.groupTimer) clearTimeout(this.groupTimer);
    this.emitter.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /** Shows only the items of an object whose text contains `text` (undefined or empty: all of them). */
  setFilter(objectId: string, text: string | undefined): void {
    if (text) this.filters.set(objectId, text);
    else this.filters.delete(objectId);
    const row = this.rows.get(`object:${objectId}`);
    this.emitter.fire(row);
  }

  /** The filter of an object, if it has one. */
  filterOf(objectId: string): string | undefined {
    return this.filters.get(objectId);
  }

  /**
   * A page of an object's contents (its state, for a lock). `builtin`: the object's built-in type
   * when this manager's snapshot does not list it (an object of the group held elsewhere, which
   * the manager reads from the group's store).
   */
  private async page(objectId: string, offset: number, builtin?: string): Promise<Row[]> {
    const snapshot = await this.controller.snapshot();
    const summary = snapshot.objects.find((o) => o.id === objectId);
    // A lock, event or barrier has state, not contents: its children are that state, from the snapshot.
    if (summary && showsState(summary)) return stateRows(summary, snapshot.sessions);
    const type = summary?.builtin ?? builtin;
    const filter = this.filters.get(objectId);
    if (filter !== undefined && offset === 0) return this.filtered(objectId, type, filter);
    const page: PeekResult = await this.controller.client!.inspection.peek(objectId, { offset, limit: PAGE_SIZE });
    return contentRows(page, type);
  }

  private async filtered(objectId: string, builtin: string | undefined, filter: string): Promise<Row[]> {
    const pages: PeekResult[] = [];
    let total = 0;
    for (let offset = 0; offset < FILTER_SCAN_LIMIT; ) {
      const page = await this.controller.client!.inspection.peek(objectId, { offset, limit: 1000 });
      total = page.total;
      pages.push(page);
      offset += page.items.length;
      if (page.items.length === 0 || offset >= page.total) break;
    }
    return filteredRows(objectId, pages, builtin, filter, total);
  }

  /** Refreshes the rows of changed objects in place (their descriptions too), and their contents. */
  private async refreshObjects(ids: Set<string>): Promise<void> {
    let snapshot;
    try {
      snapshot = await this.controller.snapshot();
    } catch {
      return;
    }
    for (const id of ids) {
      // An object of the group held elsewhere that a tool changed through this manager (Remove Item): its contents again.
      const elsewhere = this.rows.get(`group-object:${id}`);
      if (elsewhere) this.emitter.fire(elsewhere);
      const row = this.rows.get(`object:${id}`);
      if (!row) continue;
      const fresh = objectRows(snapshot, row.typeid ?? snapshot.objects.find((o) => o.id === id)?.typeid ?? '').find((r) => r.id === row.id);
      if (fresh) Object.assign(row, fresh);
      this.emitter.fire(row);
    }
  }

  /** Merges the manager's notifications for 100 ms more, then refreshes the rows they name. */
  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const { ids, all } = this.pendingChange;
      this.pendingChange = { ids: new Set(), all: false };
      if (all) return this.refresh();
      void this.refreshObjects(ids);
    }, 100);
  }
}
