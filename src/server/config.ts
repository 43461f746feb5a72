/**
 * Config modules: a workspace file (`syncmanager.config.ts`, `.js`, `.mjs`, `.cjs`) that exports
 * registrations, so custom classes are served with `exposed` enforced. TypeScript and ES modules are
 * compiled on the fly with esbuild into one CommonJS module; imports of `syncmanager/server` inside
 * it resolve to the running server's own classes, so `instanceof` and built-in types just work.
 *
 * @example
 * // syncmanager.config.ts
 * import { defineConfig, Queue } from 'syncmanager/server';
 * class Counter { n = 0; increment(by = 1) { return (this.n += by); } value() { return this.n; } }
 * const jobs = new Queue();
 * export default defineConfig({
 *   register: {
 *     get_jobs: { callable: () => jobs },
 *     Counter: { callable: Counter, exposed: ['increment', 'value'] },
 *   },
 * });
 */

import { existsSync } from 'node:fs';
import Module from 'node:module';
import { dirname, resolve } from 'node:path';
import type { Manager, ManagerRegisterOptions } from './manager';

/** What a config module exports (as its default export, or as `module.exports`). */
export interface ConfigDefinition {
  /** Typeids to register, with BaseManager.register's options. */
  register?: Record<string, ManagerRegisterOptions>;
  /** Called with the manager after `register` is applied, for anything more dynamic. */
  setup?: (manager: Manager) => void | Promise<void>;
}

/** Gives a config object its type; returns it unchanged. */
export function defineConfig(config: ConfigDefinition): ConfigDefinition {
  return config;
}

export { CONFIG_FILE_NAMES, findConfigFile } from '../common/configFiles';

/** Thrown when a config module cannot be loaded or has the wrong shape; names the file. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const SERVER_API = Symbol.for('syncmanager.server-api');

/**
 * esbuild, loaded only here: it is an optional peer dependency (a native binary per platform), so a project that
 * only connects as a client, or serves no config module, never installs it.
 */
async function loadEsbuild(configPath: string): Promise<typeof import('esbuild')> {
  try {
    return await import('esbuild');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new ConfigError(`config file ${configPath} needs esbuild to be compiled, and it is not installed: npm install esbuild (an optional peer dependency of syncmanager)`);
  }
}

/** Compiles and runs a config module; returns its definition. */
export async function loadConfig(file: string): Promise<ConfigDefinition> {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist`);
  // The module imports `syncmanager/server`: hand it this very module graph, not another copy.
  (globalThis as Record<symbol, unknown>)[SERVER_API] = await import('./index');
  const esbuild = await loadEsbuild(path);
  let code: string;
  try {
    const result = await esbuild.build({
      entryPoints: [path],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      packages: 'external',
      logLevel: 'silent',
      plugins: [
        {
          name: 'syncmanager-self',
          setup(build) {
            build.onResolve({ filter: /^syncmanager(\/server)?$/ }, (args) => ({ path: args.path, namespace: 'syncmanager-self' }));
            build.onLoad({ filter: /.*/, namespace: 'syncmanager-self' }, () => ({
              contents: `module.exports = globalThis[Symbol.for('syncmanager.server-api')];`,
              loader: 'js',
            }));
          },
        },
      ],
    });
    code = result.outputFiles[0].text;
  } catch (error) {
    const details = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] }).errors
      ?.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text))
      .join('\n');
    throw new ConfigError(`config file ${path} does not compile:\n${details ?? (error as Error).message}`);
  }
  // Stack traces of the config's code (thrown while loading, in setup, or later in its methods) point at its own
  // lines through the inline source map, not at the compiled bundle's: Node reads the map only while this is on.
  process.setSourceMapsEnabled(true);
  const mod = new Module(path, undefined) as Module & { _compile(code: string, filename: string): void };
  mod.filename = path;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(path));
  try {
    mod._compile(code, path);
  } catch (error) {
    throw new ConfigError(`config file ${path} threw while loading: ${(error as Error).stack ?? error}`);
  }
  const exported = mod.exports as { default?: unknown } | undefined;
  const definition = (exported && typeof exported === 'object' && 'default' in exported ? exported.default : exported) as unknown;
  if (typeof definition === 'function') return { setup: definition as ConfigDefinition['setup'] };
  if (typeof definition !== 'object' || definition === null) {
    throw new ConfigError(`config file ${path} must export a config object (export default defineConfig({ register: {...} })) or a function (manager) => void`);
  }
  const { register, setup, ...unknown } = definition as ConfigDefinition;
  const extra = Object.keys(unknown);
  if (extra.length) throw new ConfigError(`config file ${path}: unknown field ${extra.map((k) => `'${k}'`).join(', ')} (expected register, setup)`);
  if (register !== undefined && (typeof register !== 'object' || register === null)) throw new ConfigError(`config file ${path}: register must be an object of typeid → options`);
  if (setup !== undefined && typeof setup !== 'function') throw new ConfigError(`config file ${path}: setup must be a function`);
  return { register, setup };
}

/** Loads a config module and applies it to a manager. */
export async function applyConfig(manager: Manager, file: string): Promise<void> {
  const definition = await loadConfig(file);
  for (const [typeid, options] of Object.entries(definition.register ?? {})) {
    try {
      manager.register(typeid, options);
    } catch (error) {
      throw new ConfigError(`config file ${resolve(file)}: ${(error as Error).message}`);
    }
  }
  await definition.setup?.(manager);
}
