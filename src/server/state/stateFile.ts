/**
 * The state file of `serve --state FILE`: a JSON document with a format marker and a version,
 * written atomically (a temporary file beside it, flushed to disk, then renamed over it), so a
 * crash or a kill at any moment leaves either the previous file or the new one, never a mixture.
 * Reading refuses anything that is not a complete state file of this version, naming the file and
 * the problem: a server never starts from a file it half understood.
 */

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { writeJsonKeepingSigns } from '../../common/jsonText';
import { checkSavedObject, isRecord, SavedObjectError, type SavedObject } from './objectState';

/** The value of a state file's `format` member. */
export const STATE_FORMAT = 'syncmanager-state';
/** The version of the state file this server writes and reads. */
export const STATE_VERSION = 1;

/** A state file's contents. */
export interface StateDocument {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  /** When it was written (ISO 8601), for people reading it. */
  savedAt: string;
  /** The syncmanager version that wrote it, for people reading it. */
  savedBy: string;
  /** The saved objects by typeid. */
  objects: Record<string, SavedObject>;
}

/** A state file that cannot be used; the message names the file and what is wrong with it. */
export class StateFileError extends Error {
  override name = 'StateFileError';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`state file ${file}: ${problem}`);
  }
}

/**
 * Reads and checks a state file. Undefined when there is none yet (the first start).
 * @throws StateFileError for a file that cannot be read, is not JSON or not complete, is not a
 * syncmanager state file, is of another version, or holds a malformed object.
 */
export function readStateFile(file: string): StateDocument | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(file, `cannot be read (${(error as Error).message})`);
  }
  if (text.trim() === '') throw new StateFileError(file, 'is empty; a state file is written whole, so this one was not written by syncmanager (remove it to start empty)');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // A parser that stops at the last character ran out of text: the file was cut short.
    const at = /at position (\d+)/.exec((error as Error).message);
    const truncated = /end of (JSON )?input|Unterminated/i.test((error as Error).message) || (at !== null && Number(at[1]) >= text.trimEnd().length);
    throw new StateFileError(file, truncated ? `is cut short: its JSON ends before it is complete (${(error as Error).message})` : `is not JSON (${(error as Error).message})`);
  }
  if (!isRecord(json) || json.format !== STATE_FORMAT) {
    throw new StateFileError(file, `is not a syncmanager state file: it has no "format": "${STATE_FORMAT}" member`);
  }
  if (json.version !== STATE_VERSION) {
    throw new StateFileError(file, `is of version ${JSON.stringify(json.version)}; this syncmanager reads version ${STATE_VERSION}`);
  }
  if (!isRecord(json.objects)) throw new StateFileError(file, 'has no "objects" member holding the saved objects by typeid');
  for (const [typeid, saved] of Object.entries(json.objects)) {
    try {
      checkSavedObject(saved);
    } catch (error) {
      if (!(error instanceof SavedObjectError)) throw error;
      throw new StateFileError(file, `the object saved for typeid '${typeid}' ${error.message}`);
    }
  }
  return json as unknown as StateDocument;
}

/**
 * Writes a state file atomically: the whole document to a temporary file in the same folder,
 * flushed to disk, then renamed over `file`, and the folder flushed so the rename lasts.
 * @throws Error (with the file's name) when it cannot be written; `file` is then as it was.
 */
export function writeStateFile(file: string, document: StateDocument): void {
  const temporary = temporaryName(file);
  try {
    const fd = openSync(temporary, 'w', 0o600);
    try {
      // Keeping signs: a float -0.0 is written -0.0, not 0 (SPEC 11.3).
      writeFileSync(fd, `${writeJsonKeepingSigns(document)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // It may never have been made.
    }
    throw new StateFileError(file, `cannot be written (${(error as Error).message}); the previous state file is unchanged`);
  }
  flushFolder(dirname(file));
}

/**
 * Checks, at start, that the state file can be written where it is asked for (its folder exists
 * and takes a new file), so a mistake shows now rather than at the shutdown that should save.
 * @throws StateFileError naming the reason.
 */
export function checkWritable(file: string): void {
  const probe = temporaryName(file);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
    unlinkSync(probe);
  } catch (error) {
    throw new StateFileError(file, `cannot be written (${(error as Error).message}), so nothing could be saved at shutdown`);
  }
}

/** The temporary file a state file is written to before it is renamed into place. */
function temporaryName(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
}

/** Flushes a folder's entries to disk (where the platform allows opening a folder). */
function flushFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open a folder: the rename is as durable as it gets there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
