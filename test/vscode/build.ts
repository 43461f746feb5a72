/**
 * Makes sure `node esbuild.js` has built dist/ from the current sources before a VS Code run loads it. Shared by
 * the node:test files under test/vscode, which `npm test` runs in parallel: one builds at a time (a lock folder),
 * and a build is skipped when every output is newer than every input, so a second file does not rewrite
 * dist/extension.js while the first one's VS Code is loading it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const OUTPUTS = ['extension.js', 'cli.js', 'client.js', 'server.js', 'examples/seed-worker.js'].map((f) => join(root, 'dist', f));
const INPUTS = ['src', 'examples', 'esbuild.js', 'package.json'].map((f) => join(root, f));
const LOCK = join(tmpdir(), `syncmanager-build-${Buffer.from(root).toString('hex').slice(-32)}.lock`);

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

function upToDate(): boolean {
  try {
    return Math.min(...OUTPUTS.map((f) => statSync(f).mtimeMs)) > Math.max(...INPUTS.map(newestMtime));
  } catch {
    return false; // an output is missing
  }
}

/** Builds dist/ unless it is up to date; throws with esbuild's output if the build fails. Bounded (≈ 2 min). */
export async function ensureBuilt(): Promise<'built' | 'up to date'> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Held by another test file (or left by a killed one: taken over after 2 minutes).
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 120_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        /* just released */
      }
      if (Date.now() > deadline) throw new Error(`${LOCK} held for 90 s: another build does not finish`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    if (upToDate()) return 'up to date';
    const build = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    if (build.status !== 0) throw new Error(`node esbuild.js failed (${build.status ?? build.signal}):\n${build.stdout}\n${build.stderr}`);
    return 'built';
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
