/**
 * Keeps the syncmanager Objects view in sight at a breakpoint. VS Code opens Run and Debug when a
 * debuggee pauses, and shows the Objects view there too (package.json), but it shows views that
 * extensions contribute to its own containers collapsed at first, whatever `visibility` says. So
 * the first time something pauses while a manager runs, the view is opened there and the focus
 * handed back to the editor; VS Code remembers it expanded from then on, and a user who collapses it again is left
 * alone (once per workspace).
 */

import * as vscode from 'vscode';
import { View } from './ids';
import type { ManagerController } from './managerController';
import type { Row } from './model/treeModel';

const SHOWN_KEY = 'syncmanager.debugObjectsShown';

/** Watches every debug session for its first pause. */
export function revealObjectsAtBreakpoints(context: vscode.ExtensionContext, controller: ManagerController, view: vscode.TreeView<Row>): vscode.Disposable {
  let revealing = false;
  const reveal = async () => {
    if (revealing || view.visible || !controller.client || context.workspaceState.get<boolean>(SHOWN_KEY)) return;
    revealing = true;
    try {
      // TreeView.reveal does not expand a collapsed pane here; the view's focus command does. Then the
      // focus goes back to the editor, where the paused line is.
      await vscode.commands.executeCommand(`${View.DebugObjects}.focus`);
      await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
      await context.workspaceState.update(SHOWN_KEY, true);
    } finally {
      revealing = false;
    }
  };
  return vscode.debug.registerDebugAdapterTrackerFactory('*', {
    createDebugAdapterTracker: () => ({
      onDidSendMessage: (message: { type?: string; event?: string }) => {
        if (message.type === 'event' && message.event === 'stopped') void reveal().catch(() => {});
      },
    }),
  });
}

