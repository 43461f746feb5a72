/**
 * The bytes of incomplete messages every connection holds, counted together against one limit:
 * one client declaring a large body and sending it slowly is allowed, a crowd of them may not
 * take the server's memory. Each session reports what its decoder holds after every chunk and
 * gives it all back when it closes.
 */

/**
 * A shared count of buffered bytes. Each holder keeps its own count and reports its changes, so
 * the count costs a little arithmetic per message, with no lookup of the holder.
 */
export class BufferBudget {
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
   * Records that a holder that held `before` bytes now holds `after`. Returns false, recording
   * nothing, when that would pass the limit: the holder must then drop its bytes.
   */
  change(before: number, after: number): boolean {
    if (after > before && this.total - before + after > this.maxBytes) return false;
    this.total += after - before;
    return true;
  }

  /** The refusal a holder answers with when {@link hold} says no. */
  refusal(): string {
    return `the server holds too many bytes of incomplete messages (the limit of ${this.maxBytes} bytes across all connections); closing this connection, send messages whole and promptly`;
  }
}
