/**
 * The extension's manager process gets none of the extension host's own Node flags: run from source
 * it gets only the TypeScript loader. A host started with other flags (a heap limit, an inspector
 * port, code given with -e) would otherwise hand them to the manager.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const host = join(__dirname, '..', 'fixtures', 'extension-manager-argv.ts');

/** A host flag the manager must not get; harmless to both processes. */
const HOST_FLAG = '--max-old-space-size=321';

test("the extension's manager, run from source, gets the TypeScript loader and none of the host's other Node flags", { timeout: 60_000 }, () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', HOST_FLAG, host], { encoding: 'utf8', timeout: 50_000 });
  assert.equal(run.status, 0, run.stderr);
  const argv = JSON.parse(run.stdout.trim()) as string[];
  const cli = argv.findIndex((a) => a.endsWith('cli.ts'));
  assert.ok(cli > 0, `runs the CLI from source: ${JSON.stringify(argv)}`);
  assert.deepEqual(argv.slice(1, cli), ['--import', 'tsx'], 'only the TypeScript loader comes before the CLI');
});
