/** Turns a plain tree row into a VS Code TreeItem. */

import * as vscode from 'vscode';
import type { Row } from './model/treeModel';

/** The TreeItem for a row: stable id, codicon, context value for the menus. */
export function toTreeItem(row: Row): vscode.TreeItem {
  const item = new vscode.TreeItem(row.label, row.expandable ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.id = row.id;
  item.description = row.description;
  item.tooltip = row.tooltip;
  item.iconPath = new vscode.ThemeIcon(row.icon);
  item.contextValue = row.contextValue;
  return item;
}
