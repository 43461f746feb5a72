/**
 * Open as JSON: a read-only document of an object's whole contents in wire form, which updates as
 * the object changes. URIs are `syncmanager-object:/<id>/<name>.json`, the name being the object's row
 * label (`get_result_queue #2`), which the editor's tab shows.
 */

import * as vscode from 'vscode';
import { JSON_SCHEME } from './ids';
import type { ManagerController } from './managerController';
import { formatJson } from './model/valueFormat';

/** Items a JSON document holds at most (the tree pages beyond that). */
const MAX_ITEMS = 10_000;

/** The content provider of object documents. */
export class JsonDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly open = new Map<string, vscode.Uri>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly controller: ManagerController) {
    this.disposables.push(
      controller.onDidChange((change) => {
        for (const id of [...change.changed, ...change.removed]) {
          const uri = this.open.get(id);
          if (uri) this.emitter.fire(uri);
        }
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc.uri.scheme === JSON_SCHEME) this.open.delete(JsonDocuments.idOf(doc.uri));
      }),
    );
  }

  /** The document URI of an object, named `name` (its row's label). */
  static uriFor(id: string, name: string): vscode.Uri {
    return vscode.Uri.from({ scheme: JSON_SCHEME, path: `/${id}/${name.replace(/[/\\]/g, '_')}.json` });
  }

  static idOf(uri: vscode.Uri): string {
    return uri.path.split('/')[1];
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = JsonDocuments.idOf(uri);
    this.open.set(id, uri);
    const client = this.controller.client;
    if (!client) return '// no manager is running';
    try {
      const first = await client.inspection.peek(id, { limit: 1000 });
      const items = [...first.items];
      while (items.length < Math.min(first.total, MAX_ITEMS)) {
        const page = await client.inspection.peek(id, { offset: items.length, limit: 1000 });
        if (page.items.length === 0) break;
        items.push(...page.items);
      }
      const body = first.kind === 'value' ? items[0] : first.kind === 'items' ? items : Object.fromEntries(items.map((pair) => [typeof (pair as unknown[])[0] === 'string' ? (pair as string[])[0] : JSON.stringify((pair as unknown[])[0]), (pair as unknown[])[1]]));
      const note = first.total > MAX_ITEMS ? `// first ${MAX_ITEMS} of ${first.total}\n` : '';
      return note + formatJson(body);
    } catch (error) {
      return `// ${(error as Error).message}`;
    }
  }

  dispose(): void {
    this.emitter.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
