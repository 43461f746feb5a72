/**
 * Secrets stay off command lines: every user of the machine reads any process's arguments (`ps`,
 * /proc/PID/cmdline), only its owner its environment. So `syncmanager serve` takes each secret
 * from an environment variable, warns when one comes as a flag, and the processes this package
 * starts (the extension's manager, start()'s child) get them by environment or IPC, never argv.
 */

import { AUTHKEY_VARIABLE, STORE_VARIABLE } from '../common/environmentVariables';

/** What `syncmanager serve` prints when a secret came as a flag: `given` says which, `instead` how else. */
function secretInArgvWarning(given: string, instead: string): string {
  return `warning: ${given} shows in the process list (ps) to every user of this machine; ${instead} instead`;
}

/** What `syncmanager serve` prints when the key was given with --authkey. */
export const AUTHKEY_IN_ARGV_WARNING = secretInArgvWarning('a key given with --authkey', `set ${AUTHKEY_VARIABLE} or use --authkey-file FILE`);

/** What `syncmanager serve` prints when --store's URL carries a user or password. */
export const STORE_CREDENTIALS_IN_ARGV_WARNING = secretInArgvWarning("a password in --store's URL", `set ${STORE_VARIABLE}=URL`);
