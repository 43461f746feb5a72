/**
 * An argument of a Python request kept as a pickle of its own (`picklePacking.ts` cuts it from
 * the request): the value is read only when something looks inside it, and a Python client that
 * reads its opcodes as the same value gets them spliced into its reply.
 */

import { EncodedValue } from '../../../common/jsonText';
import { unpickle, type UnpickleOptions } from './pickleReader';
import type { PickleDialect } from './pickleWriter';

/** An argument kept as a standalone pickle: built (read) only when something looks inside it. */
export class PackedPickle extends EncodedValue {
  readonly #pickle: Buffer;
  readonly #limits: UnpickleOptions;
  /** The clients that read its opcodes as the value the server would write: see {@link opcodesFor}. */
  readonly #splicedFor: ReadonlySet<PickleDialect>;

  /** @param limits the reader's limits as the request it was cut from was read with (its values, its opaque values' bytes). */
  constructor(pickle: Buffer, limits: Pick<UnpickleOptions, 'maxValues' | 'maxOpaqueBytes'>, splicedFor: ReadonlySet<PickleDialect>) {
    super();
    this.#pickle = pickle;
    this.#limits = limits;
    this.#splicedFor = splicedFor;
  }

  /** Its bytes, as held. */
  get size(): number {
    return this.#pickle.length;
  }

  /** The value, read as the request's reader would have read it (it holds no proxy or token: `picklePacking.ts` leaves those to the request's reader). */
  override materialise(): unknown {
    return unpickle(this.#pickle, this.#limits);
  }

  /**
   * Its opcodes, to splice into a reply for a client of `dialect`, when that client reads them as
   * the value the server would write: Python 3 unless they hold Python 2's `str` (Python 3 reads
   * it as ASCII bytes) or a protocol 5 `bytearray` (the server writes bytes, and Python 3.6 and
   * 3.7 cannot read it); Python 2 only for protocol 2's opcodes without a unicode str (the server
   * writes an ASCII str as Python 2's `str`). Undefined: pickle the value instead.
   */
  opcodesFor(dialect: PickleDialect): Buffer | undefined {
    return this.#splicedFor.has(dialect) ? this.#pickle.subarray(2, this.#pickle.length - 1) : undefined;
  }
}
