/**
 * The environment variables syncmanager's programs read and set, each name written here only:
 * `syncmanager serve`, the TypeScript client, the VS Code extension and the conformance runners
 * all import them (protocol/SPEC.md names the address and key for other languages' clients).
 */

/** The manager's address: where `serve` listens and clients connect when none is given. */
export const ADDRESS_VARIABLE = 'SYNCMANAGER_ADDRESS';

/** The authkey, read by `serve` and by clients; an environment keeps it out of `ps`. */
export const AUTHKEY_VARIABLE = 'SYNCMANAGER_AUTHKEY';

/** `serve`'s store URL, which may carry Redis's user and password. */
export const STORE_VARIABLE = 'SYNCMANAGER_STORE';
