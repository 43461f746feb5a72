/**
 * Runs the conformance suite against a server:
 *
 *   SYNCMANAGER_AUTHKEY=KEY node --import tsx protocol/conformance/run.ts <host:port>
 *        [--authkey KEY] [--handshake-timeout-ms N] [--step-timeout-ms N] [--only NAME]... [--json FILE]
 *
 * The key is best given by environment: a command line is every local user's to read (`ps`).
 * Prints one line per scenario (`ok`, or `FAIL` with the file, line, step and what arrived) and
 * exits 1 if any failed, 2 on a usage error.
 */

import { writeFileSync } from 'node:fs';
// The variable's name only: the wire itself is written here from the spec (wire.ts), not taken from the server.
import { AUTHKEY_VARIABLE } from '../../src/common/environmentVariables';
import { formatResult, loadScenarios, runAll, SCENARIO_DIR } from './runner';

const USAGE =
  'usage: run.ts <host:port> [--authkey KEY] [--handshake-timeout-ms N] [--step-timeout-ms N] [--only NAME]... [--json FILE]\n' +
  `The key: $${AUTHKEY_VARIABLE}, which a command line does not show to other users, or --authkey.`;

/** The command line, parsed. */
export interface Args {
  address: string;
  authkey: string;
  handshakeTimeoutMs?: number;
  stepTimeoutMs?: number;
  only: string[];
  json?: string;
}

/** Parses the arguments after the script's name (the key from `env` without --authkey); throws a usage message on a mistake. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Args {
  const only: string[] = [];
  let address: string | undefined;
  let authkey: string | undefined;
  let handshakeTimeoutMs: number | undefined;
  let stepTimeoutMs: number | undefined;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const ms = (): number => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${arg} takes a positive number of milliseconds`);
      return n;
    };
    switch (arg) {
      case '--authkey': authkey = value(); break;
      case '--handshake-timeout-ms': handshakeTimeoutMs = ms(); break;
      case '--step-timeout-ms': stepTimeoutMs = ms(); break;
      case '--only': only.push(value()); break;
      case '--json': json = value(); break;
      default:
        if (arg.startsWith('-') || address !== undefined) throw new Error(`unexpected argument ${arg}`);
        address = arg;
    }
  }
  if (address === undefined) throw new Error('no server address given');
  authkey ??= env[AUTHKEY_VARIABLE] || undefined;
  if (authkey === undefined) throw new Error(`no authkey: set ${AUTHKEY_VARIABLE} or --authkey KEY`);
  return { address, authkey, handshakeTimeoutMs, stepTimeoutMs, only, json };
}

/** Runs the suite as the command line asks; resolves with the exit code. */
export async function main(argv: string[], log: (line: string) => void = console.log): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  let scenarios = loadScenarios(SCENARIO_DIR);
  if (args.only.length) {
    const unknown = args.only.filter((name) => !scenarios.some((s) => s.name === name));
    if (unknown.length) {
      console.error(`no scenario named ${unknown.join(', ')}`);
      return 2;
    }
    scenarios = scenarios.filter((s) => args.only.includes(s.name));
  }
  const results = await runAll(scenarios, args, (result) => log(formatResult(result)));
  const failed = results.filter((r) => !r.ok).length;
  log(`\n${results.length - failed} passed, ${failed} failed, ${results.length} scenarios`);
  if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`);
  return failed ? 1 : 0;
}

// Run only as a script, so that tests can import the functions above.
if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(2);
    },
  );
}
