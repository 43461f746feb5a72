/**
 * Builds the server bundle as `npm run build` does, from the same sources, but with the Activity hook
 * taken out of the object service: the lines that ask whether anybody watches calls (SPEC 17.8) and
 * hand the call to the watcher. The `ours-unhooked` row serves from it, so `ours` beside it shows what
 * Activity costs a call when nobody watches. If the hook's lines change, the build fails, naming them,
 * rather than measuring the same code twice.
 *
 * The build runs in a process of its own (`node --import tsx bench/withoutActivityHook.ts` prints the
 * bundle's path), so the server that loads the bundle has no build garbage to collect while measured.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const OUTPUT = join(ROOT, 'dist', 'bench', 'server-without-activity-hook.js');

/** The hook in ObjectService.call: the watcher lookup, its comment and the test with its call to observe(). */
const HOOK = /\n[ \t]*const activity = this\.host\.activity;\n[ \t]*\/\/[^\n]*\n[ \t]*if \(activity\.watched\) return activity\.observe\([^\n]*\n/;

/**
 * Builds the bundle in a child process (about a second) and returns its path.
 * @throws Error when the build failed, with its output.
 */
export function buildServerWithoutActivityHook(): string {
  const built = spawnSync(process.execPath, ['--import', 'tsx', __filename], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const path = built.stdout?.trim();
  if (built.status !== 0 || !path) throw new Error(`building the server without the activity hook failed (${built.error?.message ?? `exit ${built.status}`}): ${built.stderr?.trim() || built.stdout?.trim() || '(no output)'}`);
  return path;
}

/**
 * Builds the bundle here and returns its path.
 * @throws Error when the hook is not found where it was, or esbuild fails.
 */
async function build(): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'src', 'server', 'index.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'esbuild'],
    write: false,
    logLevel: 'warning',
    plugins: [
      {
        name: 'without-activity-hook',
        setup(build) {
          build.onLoad({ filter: /[\\/]calls[\\/]objectService\.ts$/ }, (args) => {
            const source = readFileSync(args.path, 'utf8');
            if (!HOOK.test(source)) throw new Error(`bench/withoutActivityHook.ts: the activity hook is no longer in ${args.path} as ${HOOK} expects; update the pattern`);
            return { contents: source.replace(HOOK, '\n'), loader: 'ts' };
          });
        },
      },
    ],
  });
  const [bundle] = result.outputFiles;
  mkdirSync(join(ROOT, 'dist', 'bench'), { recursive: true });
  // Written beside and renamed, so a server of an earlier round still loading it never reads half a file.
  const temporary = `${OUTPUT}.${process.pid}.tmp`;
  writeFileSync(temporary, bundle.contents);
  renameSync(temporary, OUTPUT);
  return OUTPUT;
}

if (process.argv[1] && resolve(process.argv[1]) === __filename) {
  build().then(
    (path) => process.stdout.write(`${path}\n`),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
