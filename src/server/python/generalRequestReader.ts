/**
 * The general path for reading a Python client's request: any shape the pickle reader reads,
 * within the manager's limits, for what the fast path (`requestReader.ts`) leaves. Proxies
 * among the arguments become references to the live objects they name.
 */

import { isTuple } from '../../common/valueTypes';
import { PyException } from '../exceptions';
import { readAllowance, tooManyArguments } from '../limits';
import { packPickledArguments } from './pickle/picklePacking';
import { PickleError, unpickle } from './pickle/pickleReader';
import type { PickleNode } from './pickle/pickleTree';
import type { PickleDialect } from './pickle/pickleWriter';
import { fromPython, keywordsOf, type ReferenceOf } from './pythonArguments';
import { failureReply, traceback, type Reply } from './pythonReplies';
import { readRequest, type PythonRequest } from './requestReader';

/** What reading a request of any shape is bounded by. */
export interface RequestLimits {
  /** Most values one message may hold once read. */
  readonly maxMessageValues: number;
  /** Whether the request may hold pickles of classes the server does not read. */
  readonly opaquePickles: boolean;
}

/**
 * Reads a request, by the fast path (`requestReader.ts`) when it can and by {@link readAnyRequest}
 * else; a request passing more arguments than `MAX_CALL_ARGUMENTS` is refused with a TypeError.
 */
export function readPythonRequest(frame: Buffer, limits: RequestLimits, referenceOf: ReferenceOf, dialect: PickleDialect): PythonRequest | Reply {
  const request = readRequest(frame) ?? readAnyRequest(frame, limits, referenceOf, dialect);
  const refusal = 'method' in request ? tooManyArguments(request.args, request.kwargs) : undefined;
  return refusal ? failureReply(new PyException('TypeError', refusal), dialect) : request;
}

/**
 * Reads `frame` as `(ident, methodname, args, kwds)`; a frame that is no such request is the
 * reply to send instead (the exception a Python client raises for it).
 */
export function readAnyRequest(frame: Buffer, limits: RequestLimits, referenceOf: ReferenceOf, dialect: PickleDialect): PythonRequest | Reply {
  let request: unknown;
  // A dense argument is kept as a pickle of its own, the rest read with None in its place (SPEC §19).
  const analysed = packPickledArguments(frame, limits.maxMessageValues, limits.opaquePickles);
  if (analysed && 'tooManyArguments' in analysed) return failureReply(new PyException('TypeError', analysed.tooManyArguments), dialect);
  const cut = analysed;
  // What is built is counted against the rule, less what the arguments cut hold (their bytes).
  let maxHeldBytes = readAllowance(frame.length);
  for (const packed of cut?.packed.values() ?? []) maxHeldBytes -= packed.size;
  // A request passing more arguments than a call may is refused as such before they are built (`readPythonRequest`).
  let tooMany: string | undefined;
  const beforeBuild = (root: PickleNode) => {
    if (root.kind !== 'tuple' || root.items.length !== 4) return;
    const [, , args, kwds] = root.items;
    // The keyword dict's keys, an array, count as a record of as many keys would.
    tooMany = tooManyArguments(args.kind === 'tuple' ? args.items : undefined, kwds.kind === 'dict' ? kwds.keys : undefined);
    if (tooMany) throw new PickleError(tooMany);
  };
  try {
    const heldBudget = { maxHeldBytes, messageBytes: frame.length };
    request = unpickle(cut?.frame ?? frame, { maxValues: limits.maxMessageValues, refuseOpaque: !limits.opaquePickles, maxOpaqueBytes: cut?.maxOpaqueBytes, heldBudget, beforeBuild });
  } catch (error) {
    if (tooMany) return failureReply(new PyException('TypeError', tooMany), dialect);
    return ['#TRACEBACK', traceback('UnpicklingError', (error as Error).message)];
  }
  if (!isTuple(request) || request.length !== 4) {
    return ['#TRACEBACK', traceback('ValueError', 'a request must be a tuple (ident, methodname, args, kwds)')];
  }
  const [ident, method, args, kwds] = request;
  if (typeof method !== 'string') return ['#TRACEBACK', traceback('TypeError', 'the method name must be a str')];
  try {
    const decoded = Array.isArray(args) ? args.map((a, i) => cut?.packed.get(i) ?? fromPython(a, referenceOf)) : [];
    const kwargs = keywordsOf(kwds, referenceOf);
    for (const [key, packed] of cut?.packed ?? []) if (typeof key === 'string') kwargs[key] = packed;
    return { ident, method, args: decoded, kwargs };
  } catch (error) {
    return failureReply(error, dialect);
  }
}
