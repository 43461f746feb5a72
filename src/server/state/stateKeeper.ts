/**
 * Keeps the built-in objects of registered typeids across a clean restart (`serve --state FILE`,
 * `ManagerOptions.stateFile`): restores them from the file before the manager listens, and saves
 * them when it shuts down cleanly.
 *
 * Restoring is all or nothing: every saved object is checked and tried before any is changed. A
 * saved typeid that is not registered now (or is registered as another type) is not lost: it is
 * restored when it is registered while serving, else written back unchanged at the next save
 * (for a typeid registered as another type, in place of that object's contents, with a warning).
 */

import { VERSION } from '../../common/version';
import { builtinName, captureObject, mismatch, prepareRestore, type SavedObject } from './objectState';
import { checkWritable, readStateFile, StateFileError, writeStateFile, STATE_FORMAT, STATE_VERSION } from './stateFile';

/** The shared objects to keep, by typeid (registration order). */
export type SharedObjects = ReadonlyMap<string, object>;

/** Saves and restores a manager's shared objects. */
export class StateKeeper {
  /** Saved objects not restored into anything: written back as they were at the next save. */
  private readonly carried = new Map<string, SavedObject>();

  constructor(
    /** The state file. */
    readonly file: string,
    /** Where warnings go: what was not saved, what could not be restored where it was. */
    private readonly warn: (message: string) => void,
    private readonly log: (message: string) => void,
  ) {}

  /**
   * Restores the objects the file holds into `objects`. Nothing changes unless all can be.
   * @throws StateFileError naming the file and what was wrong.
   */
  restore(objects: SharedObjects): void {
    const document = readStateFile(this.file);
    checkWritable(this.file);
    if (!document) {
      this.log(`state file ${this.file} does not exist yet: starting empty; it is written at a clean shutdown`);
      return;
    }
    const apply: (() => void)[] = [];
    const restored: string[] = [];
    for (const [typeid, saved] of Object.entries(document.objects)) {
      const obj = objects.get(typeid);
      const problem = obj ? mismatch(saved, obj) : `typeid '${typeid}' is not registered now`;
      if (problem !== undefined || !obj) {
        this.carried.set(typeid, saved);
        this.warn(`state file ${this.file}: the ${saved.type} saved for '${typeid}' is kept in the file but not restored: ${problem}`);
        continue;
      }
      try {
        apply.push(prepareRestore(saved, obj));
      } catch (error) {
        throw new StateFileError(this.file, `the ${saved.type} saved for typeid '${typeid}' cannot be restored: ${(error as Error).message}`);
      }
      restored.push(typeid);
    }
    for (const run of apply) run();
    this.log(`state file ${this.file} (saved ${document.savedAt}) restored: ${restored.join(', ') || 'nothing'}`);
  }

  /** A typeid registered while serving gets its saved contents, if the file had them and they fit. */
  adopt(typeid: string, obj: object): void {
    const saved = this.carried.get(typeid);
    if (!saved || mismatch(saved, obj) !== undefined) return;
    try {
      prepareRestore(saved, obj)();
      this.carried.delete(typeid);
      this.log(`state file ${this.file}: restored '${typeid}' as it was registered`);
    } catch (error) {
      this.warn(`state file ${this.file}: the ${saved.type} saved for '${typeid}' is kept in the file but not restored: ${(error as Error).message}`);
    }
  }

  /**
   * Writes `objects` (and the saved objects carried over) to the file, atomically; what cannot be
   * saved is named in a warning.
   * @throws StateFileError when the file cannot be written (the previous one is then unchanged).
   */
  save(objects: SharedObjects): void {
    const saved: Record<string, SavedObject> = {};
    const skipped: string[] = [];
    for (const [typeid, entry] of this.carried) saved[typeid] = entry;
    for (const [typeid, obj] of objects) {
      if (this.carried.has(typeid)) {
        // What the file held for it was not restored (another type now): it is kept, not overwritten.
        skipped.push(`'${typeid}' (${builtinName(obj)}): its contents, since the file keeps the ${this.carried.get(typeid)!.type} saved for '${typeid}' before, which was not restored`);
        continue;
      }
      const capture = captureObject(obj);
      for (const line of capture.skipped) skipped.push(`'${typeid}' (${builtinName(obj)}) ${line}`);
      if (capture.saved) saved[typeid] = capture.saved;
      else delete saved[typeid];
    }
    writeStateFile(this.file, { format: STATE_FORMAT, version: STATE_VERSION, savedAt: new Date().toISOString(), savedBy: VERSION, objects: saved });
    if (skipped.length) this.warn(`state file ${this.file}: ${skipped.length} value(s) not saved:\n  ${skipped.join('\n  ')}`);
    this.log(`state saved to ${this.file}: ${Object.keys(saved).join(', ') || 'nothing'}`);
  }
}
