/**
 * Real Pythons for the pickle tests: finds the pyenv builds on this machine and runs
 * `pickle_harness.py` in one long-lived process per version, which answers batches of cases
 * (dump these values, load these pickles and compare, list these opcodes).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The Python versions the tests cover: each minor version's newest pyenv build. */
export const PYTHON_VERSIONS = ['2.7', '3.6', '3.8', '3.11', '3.12', '3.13'] as const;

function pyenvRoot(): string | undefined {
  if (process.env.PYENV_ROOT) return process.env.PYENV_ROOT;
  const found = spawnSync('pyenv', ['root'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  const home = join(process.env.HOME ?? '/root', '.pyenv');
  return existsSync(home) ? home : undefined;
}

/** The interpreter of a minor version (`3.11`), or undefined when none is installed. */
export function findPython(minor: string): string | undefined {
  const root = pyenvRoot();
  if (!root || !existsSync(join(root, 'versions'))) return undefined;
  const builds = readdirSync(join(root, 'versions'))
    .filter((v) => v.startsWith(`${minor}.`) && /^\d+\.\d+\.\d+$/.test(v))
    .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
  const best = builds.at(-1);
  const bin = best && join(root, 'versions', best, 'bin', 'python');
  return bin && existsSync(bin) ? bin : undefined;
}

/** One case for the harness. */
export type HarnessCase =
  | { op: 'dumps'; expr: string }
  | { op: 'loads'; data: string; expect: string; stub?: boolean }
  | { op: 'ops'; data: string };

/** What the harness answers for a case. */
export interface HarnessResult {
  pickles?: string[];
  ok?: boolean;
  repr?: string;
  expected?: string;
  error?: string;
  ops?: string[];
  protos?: number[];
}

/** A running harness process. */
export class PythonHarness {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';
  /** The interpreter's highest pickle protocol (after the first call). */
  highest = 0;

  constructor(readonly python: string) {
    this.child = spawn(python, [join(__dirname, 'pickle_harness.py')], { stdio: 'pipe', env: { ...process.env, PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1' } });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** Runs a batch of cases; results in the same order. */
  async run(cases: HarnessCase[]): Promise<HarnessResult[]> {
    this.child.stdin.write(`${JSON.stringify({ cases })}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error(`${this.python} exited: ${this.stderr}`);
    const answer = JSON.parse(next.value) as { results: HarnessResult[]; highest: number };
    this.highest = answer.highest;
    return answer.results;
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}
