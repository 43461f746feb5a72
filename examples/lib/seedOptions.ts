/**
 * Where the seed's manager and worker meet: `--address HOST:PORT` (as in `npm start -- --address …`), else
 * SYNCMANAGER_ADDRESS, else the seed's 127.0.0.1:50000; the authkey from SYNCMANAGER_AUTHKEY, else the seed's
 * 'lihui'. Shared by both scripts so they cannot disagree.
 */
import { parseArgs } from 'node:util';

/** The address and authkey the seed examples use. */
export interface SeedOptions {
  address: string;
  authkey: string;
}

/** Reads the seed examples' options from their command line and environment. */
export function seedOptions(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): SeedOptions {
  const { values } = parseArgs({ args: argv, options: { address: { type: 'string' } } });
  return {
    address: values.address || env.SYNCMANAGER_ADDRESS || '127.0.0.1:50000',
    authkey: env.SYNCMANAGER_AUTHKEY || 'lihui',
  };
}
