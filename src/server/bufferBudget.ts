/**
 * The bytes of incomplete messages every connection holds, counted together against one limit:
 * one client declaring a large body and sending it slowly is allowed, a crowd of them may not
 * take the server's memory. Each session reports what its decoder holds after every chunk and
 * gives it all back when it closes.
 */

/** A shared count of buffered bytes, by holder. */
export class BufferBudget {
  private readonly held = new Map<object, number>();
  private total = 0;

  constructor(
    /** Most bytes held at once, across holders. */
    readonly maxBytes: number,
  ) {}

  /** Bytes held now, across holders. */
  get bytes(): number {
    return this.total;
  }

  /**
   * Records that `holder` now holds `bytes` (what it held before is replaced). Returns false,
   * recording nothing, when that would pass the limit: the holder must then drop its bytes.
   */
  hold(holder: object, bytes: number): boolean {
    const before = this.held.get(holder) ?? 0;
    if (bytes > before && this.total - before + bytes > this.maxBytes) return false;
    this.total += bytes - before;
    if (bytes === 0) this.held.delete(holder);
    else this.held.set(holder, bytes);
    return true;
  }

  /** Gives back everything `holder` held. */
  release(holder: object): void {
    this.hold(holder, 0);
  }

  /** The refusal a holder answers with when {@link hold} says no. */
  refusal(): string {
    return `the server holds too many bytes of incomplete messages (the limit of ${this.maxBytes} bytes across all connections); closing this connection, send messages whole and promptly`;
  }
}
