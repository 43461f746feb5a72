/**
 * Thrown when a value cannot be encoded or decoded; names what was wrong and where. The place is
 * worked out only when something fails: each level the error passes through adds its step, so the
 * codec builds no path strings for values that are fine.
 */
export class ValueCodecError extends Error {
  override name = 'ValueCodecError';
  /** Steps from the failing value up to the root (`[3]`, `.key`), innermost first. */
  private readonly steps: string[] = [];
  /** @param template the message; `{at}` stands for "at <path>". */
  constructor(private readonly template: string) {
    super(template.replace('{at}', 'at $'));
  }

  /** Records that the failure was inside `step` of its parent (used while unwinding). */
  within(step: string): this {
    this.steps.push(step);
    this.message = this.template.replace('{at}', `at $${[...this.steps].reverse().join('')}`);
    return this;
  }
}
