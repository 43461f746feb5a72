// Builds every bundle of the package with one esbuild run: the server, client and CLI for npm, the VS
// Code extension, and the examples. `--production` minifies without source maps; `--watch` rebuilds on change.
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** entry file → output name under dist/ */
const entries = {
  index: 'src/index.ts',
  server: 'src/server/index.ts',
  client: 'src/client/index.ts',
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
    fs.writeFileSync(temporary, file.contents);
    if (file.path === path.resolve('dist', 'cli.js')) fs.chmodSync(temporary, 0o755);
    fs.renameSync(temporary, file.path);
  }
}

async function main() {
  if (watch) {
    const context = await esbuild.context(options);
    await context.watch();
    console.log('esbuild: watching for changes');
    return;
  }
  await esbuild.build(options);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
