/**
 * Checks a client: plays the server's side of every client scenario against the client under
 * test, which runs behind an adapter program (README, "Checking a client"):
 *
 *   node --import tsx protocol/conformance/client-run.ts [--only NAME]... [--step-timeout-ms N]
 *        [--json FILE] -- <adapter command and its arguments>
 *
 * Starts the adapter once per scenario with SYNCMANAGER_ADDRESS and SYNCMANAGER_AUTHKEY set,
 * prints one line per scenario (`ok`, or `FAIL` with the file, line, step and what the client did
 * instead) and exits 1 if any failed, 2 on a usage error.
 */

import { writeFileSync } from 'node:fs';
import { CLIENT_SCENARIO_DIR, loadClientScenarios, runClientScenarios } from './clientHarness';
import { formatResult } from './runner';

const USAGE = 'usage: client-run.ts [--only NAME]... [--step-timeout-ms N] [--json FILE] -- <adapter command...>';

/** The command line, parsed. */
export interface ClientArgs {
  command: string[];
  only: string[];
  stepTimeoutMs?: number;
  json?: string;
}

/** Parses the arguments after the script's name; throws a usage message on a mistake. */
export function parseClientArgs(argv: string[]): ClientArgs {
  const dashes = argv.indexOf('--');
  if (dashes < 0 || dashes === argv.length - 1) throw new Error('no adapter command given after --');
  const command = argv.slice(dashes + 1);
  const only: string[] = [];
  let stepTimeoutMs: number | undefined;
  let json: string | undefined;
  const options = argv.slice(0, dashes);
  for (let i = 0; i < options.length; i++) {
    const arg = options[i];
    const value = (): string => {
      const v = options[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--only': only.push(value()); break;
      case '--json': json = value(); break;
      case '--step-timeout-ms': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0) throw new Error(`${arg} takes a positive number of milliseconds`);
        stepTimeoutMs = n;
        break;
      }
      default:
        throw new Error(`unexpected argument ${arg}`);
    }
  }
  return { command, only, stepTimeoutMs, json };
}

/** Runs the client scenarios as the command line asks; resolves with the exit code. */
export async function clientMain(argv: string[], log: (line: string) => void = console.log): Promise<number> {
  let args: ClientArgs;
  try {
    args = parseClientArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  let scenarios = loadClientScenarios(CLIENT_SCENARIO_DIR);
  const unknown = args.only.filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length) {
    console.error(`no client scenario named ${unknown.join(', ')}`);
    return 2;
  }
  if (args.only.length) scenarios = scenarios.filter((s) => args.only.includes(s.name));
  const results = await runClientScenarios(scenarios, { command: args.command, stepTimeoutMs: args.stepTimeoutMs }, (r) => log(formatResult(r)));
  const failed = results.filter((r) => !r.ok).length;
  log(`\n${results.length - failed} passed, ${failed} failed, ${results.length} client scenarios`);
  if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`);
  return failed ? 1 : 0;
}

// Run only as a script, so that tests can import the functions above.
if (require.main === module) {
  clientMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(2);
    },
  );
}
