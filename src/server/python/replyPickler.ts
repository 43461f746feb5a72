/**
 * A Python session's replies as framed pickles: for the client's Python (2 or 3, known from its
 * first request), with the server's objects as the tokens and proxies Python rebuilds, within
 * the message limit.
 */

import { tupleFrom } from '../../common/valueTypes';
import type { ObjectService } from '../calls/objectService';
import { SharedRef } from '../calls/sharedRef';
import type { ObjectEntry } from '../objectTable';
import { PyProxy, PyToken } from './pickle/pickleValues';
import { pickleMessage, type PickleDialect, type PickleOptions } from './pickle/pickleWriter';
import { proxyTypeFor } from './pythonNames';
import type { Reply } from './pythonReplies';

/** `('#RETURN', None)`, the reply to every `put()` and most setters, is the same bytes every time: made once. */
const RETURN_NONE: Readonly<Record<PickleDialect, Buffer>> = {
  py2: pickleMessage(['#RETURN', null], { dialect: 'py2' }),
  py3: pickleMessage(['#RETURN', null], { dialect: 'py3' }),
};

/** What the pickler needs from the manager. */
export interface ReplyHost {
  /** The manager's address as Python tokens carry it: `[host, port]`, or a socket path. */
  pythonAddress(): readonly [string, number] | string;
  readonly maxMessageBytes: number;
}

/** Pickles one connection's replies. */
export class ReplyPickler {
  /** The client's Python, once its first request told (Python 3 until then). */
  dialect: PickleDialect | undefined;
  #options: PickleOptions | undefined;

  constructor(
    private readonly host: ReplyHost,
    private readonly service: ObjectService,
  ) {}

  /** A reply as one framed pickle. @throws PickleError when it cannot be pickled or passes the message limit. */
  pickle(reply: Reply): Buffer {
    const [kind, result] = reply;
    return kind === '#RETURN' && result == null ? RETURN_NONE[this.dialect ?? 'py3'] : pickleMessage(reply, this.options());
  }

  /** The token a Python client's proxy for `entry` carries. */
  tokenOf(entry: ObjectEntry): PyToken {
    const address = this.host.pythonAddress();
    // A tuple, as Python's own tokens carry it: a proxy rebuilt from a value keys a dict by its address.
    return new PyToken(entry.typeid, typeof address === 'string' ? address : tupleFrom([...address]), entry.id);
  }

  /** A stored reference, as Python reads it: a proxy it rebuilds (and increfs) on its side. */
  private refToPython(value: object): PyProxy | undefined {
    if (!(value instanceof SharedRef)) return undefined;
    const entry = this.service.storedReference(value);
    return new PyProxy(this.tokenOf(entry), proxyTypeFor(entry), [...entry.exposed]);
  }

  /** How replies are pickled: for the client's Python, with the server's references as proxies, within the message limit. */
  private options(): PickleOptions {
    if (this.#options) return this.#options;
    const options: PickleOptions = { dialect: this.dialect ?? 'py3', encodeRef: (v) => this.refToPython(v), maxBytes: this.host.maxMessageBytes };
    // Known once the first request is read; a reply before that (a framing error) is not kept.
    if (this.dialect) this.#options = options;
    return options;
  }
}
