/**
 * `initialize`: the version and capabilities a JSON-RPC session agrees on with its client.
 */

import { ErrorCodes } from '../../common/errorCodes';
import { PROTOCOL_VERSION, type ClientInfo, type InitializeParams, type InitializeResult, type ResumeRequest, type ServerCapabilities } from '../../common/protocol';
import { expectFields, RpcError } from './paramChecks';
import { MAX_RESUME_WITHIN_MS } from './resumeTokens';

/** What initialize settled for the session. */
export interface Agreement {
  readonly result: Omit<InitializeResult, 'sessionId'>;
  readonly clientInfo: ClientInfo | undefined;
  readonly processId: number | null;
  /** The resumption window granted, in ms (SPEC 20.4); undefined when the client did not ask. */
  readonly resumeWithinMs: number | undefined;
}

/**
 * Checks `initialize`'s params and agrees on a version and capabilities.
 * @throws RpcError InvalidParams, UnsupportedProtocolVersion.
 */
export function agree(params: InitializeParams, server: { readonly serverVersion: string; readonly inspectionAllowed: boolean; readonly livenessTimeoutMs: number }): Agreement {
  expectFields(params, { protocolVersion: 'string', clientInfo: 'object?', processId: 'number|null?', capabilities: 'object?' });
  const match = /^(\d+)\.(\d+)$/.exec(params.protocolVersion);
  if (!match) throw new RpcError(ErrorCodes.InvalidParams, `protocolVersion ${JSON.stringify(params.protocolVersion)} must be "major.minor"`);
  const [ourMajor, ourMinor] = PROTOCOL_VERSION.split('.').map(Number);
  if (Number(match[1]) !== ourMajor) {
    const message = `protocol ${params.protocolVersion} is not supported: this server speaks ${PROTOCOL_VERSION}`;
    throw new RpcError(ErrorCodes.UnsupportedProtocolVersion, message, { type: 'UnsupportedProtocolVersion', message, supported: [PROTOCOL_VERSION] });
  }
  if (params.processId !== undefined && params.processId !== null && !Number.isSafeInteger(params.processId)) {
    throw new RpcError(ErrorCodes.InvalidParams, 'field processId must be a whole number or null');
  }
  if (params.clientInfo !== undefined) {
    expectFields(params.clientInfo, { name: 'string', version: 'string?' }, 'clientInfo.');
  }
  const agreedMinor = Math.min(ourMinor, Number(match[2]));
  // Inspection is granted only to a 1.1 client that asks for it, by a manager that allows it.
  const inspection = agreedMinor >= 1 && params.capabilities?.inspection === true && server.inspectionAllowed;
  const capabilities: ServerCapabilities = { cancellation: true };
  // Proxies inside arguments are accepted from every client; 1.2 clients are told so.
  if (agreedMinor >= 2) {
    capabilities.nestedProxies = true;
    // The same port serves Python's own manager clients, which share these objects.
    capabilities.pythonBridge = true;
  }
  if (inspection) capabilities.inspection = true;
  // Liveness (since 1.3, SPEC 20.1) is opt-in: it makes the server drop a session that falls silent.
  const ping = agreedMinor >= 3 && params.capabilities?.ping === true;
  if (ping) capabilities.ping = true;
  // Acknowledged gets (since 1.3, SPEC 20.3) only tell what the server accepts: granted unasked.
  if (agreedMinor >= 3) capabilities.acknowledgedGets = true;
  // Attachments (since 1.3, SPEC 5.1) change how every result with bytes is written: only for a client that reads them.
  const binaryAttachments = agreedMinor >= 3 && params.capabilities?.binaryAttachments === true;
  if (binaryAttachments) capabilities.binaryAttachments = true;
  const resumeWithinMs = agreedMinor >= 3 ? resumeWindow(params.capabilities?.resume) : undefined;
  if (resumeWithinMs !== undefined) capabilities.resume = { withinMs: resumeWithinMs };
  return {
    result: {
      protocolVersion: `${ourMajor}.${agreedMinor}`,
      serverInfo: { name: 'syncmanager', version: server.serverVersion },
      capabilities,
      ...(ping ? { livenessTimeoutMs: server.livenessTimeoutMs } : {}),
    },
    clientInfo: params.clientInfo,
    processId: params.processId ?? null,
    resumeWithinMs,
  };
}

/** The window granted for a client's `capabilities.resume` (SPEC 20.4): its own, at most the server's maximum. */
function resumeWindow(asked: unknown): number | undefined {
  if (asked === undefined) return undefined;
  if (typeof asked !== 'object' || asked === null || Array.isArray(asked)) throw new RpcError(ErrorCodes.InvalidParams, 'capabilities.resume must be an object: { "withinMs": N }');
  expectFields(asked as Record<string, unknown>, { withinMs: 'number', token: 'string?', answersSeen: 'number?' }, 'capabilities.resume.');
  const { withinMs, token, answersSeen } = asked as ResumeRequest;
  if (!(withinMs > 0) || !Number.isFinite(withinMs)) throw new RpcError(ErrorCodes.InvalidParams, 'capabilities.resume.withinMs must be a number of milliseconds above 0');
  if ((token === undefined) !== (answersSeen === undefined)) throw new RpcError(ErrorCodes.InvalidParams, 'capabilities.resume needs token and answersSeen together, to resume a session');
  return Math.min(Math.max(1, Math.round(withinMs)), MAX_RESUME_WITHIN_MS);
}
