/**
 * JSON-RPC error codes used by the syncmanager protocol.
 *
 * JSON-RPC 2.0 reserves -32768..-32000; its five standard codes are used with their standard
 * meaning. Every code of our own lives in the band -31999..-31000, outside every reserved band
 * (JSON-RPC's, and LSP's -32899..-32800), so a stock JSON-RPC library never confuses them with
 * its own. `protocol/SPEC.md` documents each one; `protocol/schema.json` lists them and a test
 * holds the two together.
 */
export namespace ErrorCodes {
  /** The body was not valid JSON. The connection stays usable (framing was intact). */
  export const ParseError = -32700 as const;
  /** The JSON was not a valid JSON-RPC 2.0 request object. */
  export const InvalidRequest = -32600 as const;
  /** No such protocol method. */
  export const MethodNotFound = -32601 as const;
  /** The params object lacks a field, has an unknown one, or one of the wrong type. */
  export const InvalidParams = -32602 as const;
  /** A bug in the server. `data` carries the stack. */
  export const InternalError = -32603 as const;

  /** A request other than `initialize` arrived before `initialize` succeeded. */
  export const ServerNotInitialized = -31000 as const;
  /** The client's protocol major version is not one the server speaks. */
  export const UnsupportedProtocolVersion = -31001 as const;
  /** The request was cancelled by `$/cancelRequest` before it had any effect. */
  export const RequestCancelled = -31002 as const;
  /** The server or this session is shutting down; the request was not carried out. */
  export const ShuttingDown = -31003 as const;
  /** `object/create` named a typeid that is not registered. */
  export const UnknownTypeid = -31004 as const;
  /** The object id is not in the object table (never existed, or every reference was released). */
  export const UnknownObject = -31005 as const;
  /** The method exists on the object but is not in its typeid's `exposed` list (data.type: AttributeError). */
  export const MethodNotExposed = -31006 as const;
  /** The shared object's method raised; `data.type` names the exception (Empty, Full, KeyError, ...). */
  export const RemoteException = -31007 as const;
  /** A value in the params could not be decoded (an unknown or malformed `$` tag). */
  export const InvalidValue = -31008 as const;
  /** A message's Content-Length exceeded the server's limit; the server closes the connection after this. */
  export const MessageTooLarge = -31009 as const;
  /** The session has no reference to release (`object/decref` more often than it holds). */
  export const NoReference = -31010 as const;
  /**
   * `delivery/ack` or `delivery/nack` named a delivery this session does not hold: acknowledged or
   * given back already (nack, visibility timeout, the session that took it ended), or never its. Since 1.3.
   */
  export const UnknownDelivery = -31011 as const;
  /** `initialize` asked to resume a session that cannot be: unknown or expired token, or answers it no longer keeps (SPEC 20.3). */
  export const SessionNotResumable = -31012 as const;
}

/** Any code of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Every code with its name, for documentation and the schema drift test. */
export const errorCodeNames: ReadonlyMap<number, string> = new Map(
  Object.entries(ErrorCodes).map(([name, code]) => [code as number, name]),
);

/**
 * The `data` member of every error the server sends for an exception: enough for a client
 * in any language to rebuild it as its own exception class.
 */
export interface RemoteErrorData {
  /** The exception's type, by its Python name: Empty, Full, KeyError, IndexError, ValueError, TypeError, AttributeError, Timeout... */
  type: string;
  /** The exception's message, without the type name. */
  message: string;
  /** The server-side stack, when the server was asked to include it (diagnostics only). */
  stack?: string;
  /** For KeyError and similar: the offending value, encoded as a protocol value. */
  args?: unknown[];
}
