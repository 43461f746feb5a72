/**
 * Which keys a manager may serve with where. An empty authkey proves nothing: anyone who can reach
 * the port gets in. That is a choice a developer may make on their own machine, never on an
 * address other machines can reach. Checked once, when a manager listens, whatever started it
 * (the CLI, the API, the extension).
 */

import { formatAddress, isLoopbackHost, type Address } from '../common/address';
import { AUTHKEY_VARIABLE } from '../common/environmentVariables';

/** @throws Error when `authkey` may not be served on `address`. */
export function checkAuthkeyFor(address: Address, authkey: Uint8Array): void {
  if (authkey.length === 0 && address.kind === 'tcp' && !isLoopbackHost(address.host)) {
    throw new Error(
      `refusing to listen on ${formatAddress(address)} with an empty authkey: the address is reachable from other machines, and an empty key lets anyone in. ` +
        `Choose a secret (${AUTHKEY_VARIABLE} or --authkey-file), or listen on 127.0.0.1.`,
    );
  }
}
