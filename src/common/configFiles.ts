/** Where a workspace's config module is looked for: shared by the CLI, the server and the extension. */

import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The names a config file may have, in the order they are looked for. */
export const CONFIG_FILE_NAMES = ['syncmanager.config.ts', 'syncmanager.config.mts', 'syncmanager.config.js', 'syncmanager.config.mjs', 'syncmanager.config.cjs'];

/** The config file in a folder, if there is one. */
export function findConfigFile(folder: string): string | undefined {
  return CONFIG_FILE_NAMES.map((name) => join(folder, name)).find((file) => existsSync(file));
}
