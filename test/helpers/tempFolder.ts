/**
 * Temporary folders for tests, each removed with everything in it when its owner ends, passed or
 * failed: one test (`t.after`), or the whole test file (node:test's `after`). A full `npm test`
 * makes hundreds; left behind, they pile up in the OS temp folder run after run.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** What a test's context offers to run at its end (node:test's TestContext has it). */
export interface TestEnd {
  after(fn: () => void): void;
}

function made(name: string, atEnd: (remove: () => void) => void): string {
  const dir = mkdtempSync(join(tmpdir(), `syncmanager-${name}-`));
  atEnd(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A new folder `syncmanager-NAME-*` in the OS temp folder, removed when test `t` ends. */
export function testFolder(t: TestEnd, name: string): string {
  return made(name, (remove) => t.after(remove));
}

/**
 * A new folder `syncmanager-NAME-*` in the OS temp folder, removed after the file's last test.
 * Call it at the file's top level (not inside a test or hook), where `after` belongs to the file.
 */
export function fileFolder(name: string): string {
  return made(name, (remove) => after(remove));
}
