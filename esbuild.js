// Builds every bundle of the package with one esbuild run: the server, client and CLI for npm, the VS
// Code extension, and the examples; then the client's code cache (src/client/codeCache.ts).
// `--production` minifies without source maps; `--watch` rebuilds on change (without the cache).
const esbuild = require('esbuild');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** entry file → output name under dist/ */
const entries = {
  index: 'src/index.ts',
  server: 'src/server/index.ts',
  // `syncmanager/client`: a small module running the client's code (client-code) with V8's code cache.
  client: 'src/client/cachedEntry.ts',
  'client-code': 'src/client/index.ts',
  'build/client-code-cache': 'scripts/clientCodeCache.ts',
  cli: 'src/server/cli.ts',
  extension: 'src/extension/extension.ts',
};
for (const dir of ['examples']) {
  if (!fs.existsSync(dir)) continue;
  for (const file of fs.readdirSync(dir)) {
    if (/\.ts$/.test(file) && !file.endsWith('.d.ts')) entries[`${dir}/${file.replace(/\.ts$/, '')}`] = `${dir}/${file}`;
  }
}
for (const [name, file] of Object.entries(entries)) if (!fs.existsSync(file)) delete entries[name];

/** @type {import('esbuild').BuildOptions} */
const options = {
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  // esbuild's own binary is found at run time (config modules); vscode is provided by the editor.
  external: ['vscode', 'esbuild'],
  alias: {
    'syncmanager/client': path.resolve('src/client/index.ts'),
    'syncmanager/server': path.resolve('src/server/index.ts'),
    syncmanager: path.resolve('src/index.ts'),
  },
  logLevel: 'warning',
  // Outputs are written by writeAtomically, not by esbuild in place: test files rebuild dist/ while others load it.
  write: false,
  plugins: [{ name: 'write-atomically', setup: (build) => build.onEnd(writeAtomically) }],
};

/**
 * Writes each output to a temporary file beside it and renames it over the old one, so a process loading a bundle
 * while another rebuilds sees the old file or the new one, never a truncated one. dist/cli.js is made executable
 * before it appears.
 */
function writeAtomically(result) {
  for (const file of result.outputFiles ?? []) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    fs.mkdirSync(path.dirname(file.path), { recursive: true });
    fs.writeFileSync(temporary, file.path === path.resolve('dist', 'client.js') ? withExportNames(file.contents, result.outputFiles) : file.contents);
    if (file.path === path.resolve('dist', 'cli.js')) fs.chmodSync(temporary, 0o755);
    fs.renameSync(temporary, file.path);
  }
}

/**
 * dist/client.js sets its exports at run time, from the client's code: the names are written after it in the form
 * Node's ES module loader reads from a CommonJS module without running it (as esbuild writes them for a bundle), so
 * that `import { connect } from 'syncmanager/client'` finds them.
 */
function withExportNames(contents, outputFiles) {
  const code = outputFiles.find((file) => file.path === path.resolve('dist', 'client-code.js'))?.text ?? '';
  const names = /\n0 && \(module\.exports = \{[^}]*\}\);\n/.exec(code);
  if (!names) throw new Error("esbuild.js: dist/client-code.js does not end with its export names ('0 && (module.exports = {...});')");
  return Buffer.concat([contents, Buffer.from(names[0].slice(1))]);
}

/**
 * Makes dist/client-code.cache for the client just built, in a Node process without V8 flags (a cache is taken only
 * under the flags it was made with): see scripts/clientCodeCache.ts. When it cannot be made the build still
 * succeeds, and the client compiles its code at load as any module does.
 */
function makeClientCodeCache() {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const made = spawnSync(process.execPath, [path.join('dist', 'build', 'client-code-cache.js')], { env, encoding: 'utf8', timeout: 60_000 });
  if (made.status !== 0) console.warn(`esbuild.js: ${(made.stderr || made.error?.message || `exit ${made.status ?? made.signal}`).trim()}`);
}

async function main() {
  if (watch) {
    const context = await esbuild.context(options);
    await context.watch();
    console.log('esbuild: watching for changes');
    return;
  }
  await esbuild.build(options);
  makeClientCodeCache();
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
