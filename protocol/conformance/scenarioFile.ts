/**
 * The scenario file format both directions of the suite share (README, "Files"): JSON lines, `//`
 * comments, a header naming the scenario, then one step per line, each with an optional `conn`
 * and exactly one action. What the actions are is each direction's own: the server scenarios'
 * runner (`runner.ts`) and the client scenarios' harness (`clientHarness.ts`) pass their step
 * parser in, and play their steps through {@link playScenario}.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ScenarioError, type Json } from './patterns';

/** A scenario file that does not follow the format: a bug in the suite, not in what it checks. */
export class ScenarioFormatError extends Error {
  override name = 'ScenarioFormatError';
}

/** A step that failed: the message says what was expected, `received` what came instead. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly received?: string,
  ) {
    super(message);
  }
}

/** One step of a scenario, with where it was written. */
export interface ScenarioStepOf<A> {
  /** The connection it acts on (`"main"` unless the step names another). */
  conn: string;
  /** 1-based line in the file. */
  line: number;
  /** The line as written, for failure reports. */
  text: string;
  action: A;
}

/** A parsed scenario file. */
export interface ScenarioOf<A> {
  name: string;
  description: string;
  /** SPEC sections the scenario checks. */
  spec: string[];
  /** The file it came from (a path, or a label for scenarios written inline). */
  file: string;
  steps: ScenarioStepOf<A>[];
}

/** A step's one action: its name and argument, after `conn` is taken out. */
export interface StepParts {
  conn: string;
  key: string;
  arg: Json;
}

const HEADER_KEYS = new Set(['scenario', 'description', 'spec']);

/** Whether a JSON value is an object (not null, not an array). */
export function isJsonObject(value: unknown): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Splits a step object into its connection and its one action; throws a message without the location. */
export function stepParts(value: Json): StepParts {
  if (!isJsonObject(value)) throw new Error('a step must be a JSON object');
  const { conn = 'main', ...rest } = value;
  if (typeof conn !== 'string' || !conn) throw new Error('"conn" must be a non-empty string');
  const keys = Object.keys(rest);
  if (keys.length !== 1) throw new Error(`a step has exactly one action besides "conn", found ${JSON.stringify(keys)}`);
  return { conn, key: keys[0], arg: rest[keys[0]] };
}

/**
 * Parses one scenario file's text with `parseAction` for the steps. Empty lines and lines
 * starting with `//` are comments; the first object is the header. Throws
 * {@link ScenarioFormatError} naming `file:line`.
 */
export function parseScenarioText<A>(text: string, file: string, parseAction: (parts: StepParts) => A): ScenarioOf<A> {
  let header: Omit<ScenarioOf<A>, 'steps' | 'file'> | undefined;
  const steps: ScenarioStepOf<A>[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('//')) continue;
    const where = `${file}:${i + 1}`;
    let value: Json;
    try {
      value = JSON.parse(line) as Json;
    } catch (error) {
      throw new ScenarioFormatError(`${where}: not JSON: ${(error as Error).message}`);
    }
    if (!header) {
      if (!isJsonObject(value) || typeof value.scenario !== 'string' || !value.scenario) throw new ScenarioFormatError(`${where}: the header needs "scenario", a name`);
      const unknown = Object.keys(value).filter((k) => !HEADER_KEYS.has(k));
      if (unknown.length) throw new ScenarioFormatError(`${where}: unknown header key ${JSON.stringify(unknown[0])}`);
      const spec = value.spec ?? [];
      if (!Array.isArray(spec) || !spec.every((s) => typeof s === 'string')) throw new ScenarioFormatError(`${where}: "spec" is a list of section numbers`);
      if (value.description !== undefined && typeof value.description !== 'string') throw new ScenarioFormatError(`${where}: "description" is a string`);
      header = { name: value.scenario, description: (value.description as string | undefined) ?? '', spec: spec as string[] };
      continue;
    }
    try {
      const parts = stepParts(value);
      steps.push({ conn: parts.conn, action: parseAction(parts), line: i + 1, text: line });
    } catch (error) {
      throw new ScenarioFormatError(`${where}: ${(error as Error).message}`);
    }
  }
  if (!header) throw new ScenarioFormatError(`${file}: no header`);
  return { ...header, file, steps };
}

/** Reads every `*.jsonl` file of a directory, in name order, with `parse`. Scenario names must be unique. */
export function loadScenarioFiles<S extends { name: string; file: string }>(dir: string, parse: (text: string, file: string) => S): S[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  const scenarios = files.map((f) => parse(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
  const seen = new Map<string, string>();
  for (const s of scenarios) {
    const other = seen.get(s.name);
    if (other) throw new ScenarioFormatError(`scenario name ${JSON.stringify(s.name)} is used by ${basename(other)} and ${basename(s.file)}`);
    seen.set(s.name, s.file);
  }
  return scenarios;
}

/** Why a scenario failed. */
export interface Failure {
  /** The line of the failing step (the last step's for a failure found at the end). */
  line: number;
  /** The step as written, or `(end of scenario)`. */
  step: string;
  message: string;
  /** What arrived instead, when something did. */
  received?: string;
}

/** The outcome of one scenario. */
export interface ScenarioResult {
  name: string;
  file: string;
  ok: boolean;
  durationMs: number;
  failure?: Failure;
}

/** What plays one scenario's steps: the server runner's `Run`, or the client harness's. */
export interface ScenarioPlayer<A> {
  /** Sets up what the steps need (the client harness starts its listener and adapter). */
  start?(): Promise<void>;
  step(step: ScenarioStepOf<A>): Promise<void>;
  /** The end-of-scenario check. */
  finish(): void;
  /** More to show with a failure (the adapter's stderr), if any. */
  context?(): string | undefined;
  /** Closes what the steps opened, whatever happened. */
  stop(): Promise<void> | void;
}

/** Plays a scenario's steps in order and reports it; never throws for a failing implementation. */
export async function playScenario<A>(scenario: ScenarioOf<A>, player: ScenarioPlayer<A>): Promise<ScenarioResult> {
  const started = Date.now();
  let failure: Failure | undefined;
  let current: ScenarioStepOf<A> | undefined;
  try {
    await player.start?.();
    for (const step of scenario.steps) {
      current = step;
      await player.step(step);
    }
    current = undefined;
    player.finish();
  } catch (error) {
    const e = error as Error;
    const prefix = error instanceof ScenarioError ? 'scenario error: ' : error instanceof StepFailure ? '' : `${e.name}: `;
    const context = player.context?.();
    failure = {
      line: current?.line ?? scenario.steps.at(-1)?.line ?? 1,
      step: current?.text ?? '(end of scenario)',
      message: prefix + e.message,
      received: [(error as StepFailure).received, context].filter(Boolean).join('\n') || undefined,
    };
  } finally {
    await player.stop();
  }
  return { name: scenario.name, file: scenario.file, ok: !failure, durationMs: Date.now() - started, failure };
}

/** Runs scenarios one after another, handing each result to `onResult` as it comes. */
export async function playAll<S>(scenarios: readonly S[], play: (scenario: S) => Promise<ScenarioResult>, onResult?: (result: ScenarioResult) => void): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const result = await play(scenario);
    onResult?.(result);
    results.push(result);
  }
  return results;
}
