/**
 * Resuming, on this manager, a session another manager of the group kept (SPEC 20.4.1): the group
 * hands the session over to this manager once the other one is gone, and this manager takes its
 * references back into its table. What the session holds (locks, permits, deliveries) stays held
 * in the group under the session's own lease, so nothing moves: the session keeps its owner id.
 */

import { ErrorCodes } from '../../common/errorCodes';
import type { InitializeResult, ResumeRequest, SessionElsewhereData } from '../../common/protocol';
import type { ObjectService } from '../calls/objectService';
import type { SessionCore } from '../calls/sessionCore';
import type { HeldResource } from '../calls/methodDispatch';
import { SessionNotAdoptable, type GroupSessions } from '../store/objectStore';
import { RpcError } from './paramChecks';
import { tokenDigest } from './resumeTokens';
import { SessionResumption } from './sessionResumption';

/**
 * Takes over the session `resume` names as the session of `core`, which is new and holds nothing.
 * @throws RpcError SessionNotResumable (with `keptBy` when a live manager of the group keeps it);
 *   another error when the store cannot be used now (the client tries again).
 */
export async function adoptFromGroup(
  sessions: GroupSessions,
  service: ObjectService,
  core: SessionCore,
  resume: Required<ResumeRequest>,
  log: (message: string) => void,
): Promise<SessionResumption> {
  let adopted;
  /** What the session holds, held by its core once its references are in the table (below). */
  const held: [HeldResource, string][] = [];
  try {
    adopted = await sessions.adopt(tokenDigest(resume.token), core.id, resume.answersSeen, (objectId) => ({
      sessionId: core.id,
      hold: (resource) => held.push([resource, objectId]),
      letGo: (resource) => core.holdings.letGo(resource),
    }));
  } catch (error) {
    if (!(error instanceof SessionNotAdoptable)) throw error;
    throw new RpcError(ErrorCodes.SessionNotResumable, error.message, error.keptBy === undefined ? undefined : ({ keptBy: error.keptBy } satisfies SessionElsewhereData));
  }
  for (const [objectId, count] of adopted.references) {
    try {
      for (let i = 0; i < count; i++) await service.increfInGroup(core, objectId);
    } catch (error) {
      log(`session ${core.id}: its reference to ${objectId} could not be taken over: ${(error as Error).message}`);
    }
  }
  // What it holds of an object this manager serves is held by this session's core from now on, and
  // keeps the object in the table, as a call's hold does: a reference the session lets go of later
  // must not take the object its deliveries, locks or permits are settled on out of the table.
  for (const [resource, objectId] of held) core.holdings.hold(resource, objectId, service.keeperOf(objectId));
  const agreed = JSON.parse(adopted.agreed) as Omit<InitializeResult, 'sessionId'>;
  return new SessionResumption(adopted.withinMs, resume.token, agreed, { sessions, sessionId: core.id, recorded: new Map(adopted.answers) });
}
