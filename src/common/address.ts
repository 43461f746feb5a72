/**
 * Manager addresses: `host:port` for TCP (`[::1]:port` for IPv6), or a filesystem path for a Unix
 * domain socket (`/tmp/sm.sock`, `./sm.sock`) or a Windows named pipe (`\\.\pipe\sm`).
 */

/** A parsed address. */
export type Address = { kind: 'tcp'; host: string; port: number } | { kind: 'ipc'; path: string };

/** Thrown for an address that is neither `host:port` nor a path. */
export class AddressError extends Error {
  override name = 'AddressError';
}

/** Parses an address string; a `{ host, port }` or a Python-style `[host, port]` pair is accepted too. */
export function parseAddress(input: string | { host: string; port: number } | readonly [string, number]): Address {
  if (Array.isArray(input)) return tcp(String(input[0]), Number(input[1]), JSON.stringify(input));
  if (typeof input === 'object' && input !== null) {
    const { host, port } = input as { host: string; port: number };
    return tcp(host, port, JSON.stringify(input));
  }
  const text = String(input).trim();
  if (text === '') throw new AddressError('the address is empty: give host:port or a socket path');
  if (text.includes('/') || text.includes('\\')) return { kind: 'ipc', path: text };
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracketed) return tcp(bracketed[1], Number(bracketed[2]), text);
  const colon = text.lastIndexOf(':');
  if (colon < 0) {
    const guess = /^\d+$/.test(text) ? `did you mean 127.0.0.1:${text}?` : 'give host:port (127.0.0.1:50000) or a socket path';
    throw new AddressError(`address ${JSON.stringify(text)} has no port: ${guess}`);
  }
  const host = text.slice(0, colon);
  if (host.includes(':')) throw new AddressError(`address ${JSON.stringify(text)}: write an IPv6 host in brackets, [::1]:50000`);
  const portText = text.slice(colon + 1);
  if (!/^\d+$/.test(portText)) throw new AddressError(`address ${JSON.stringify(text)}: port ${JSON.stringify(portText)} is not a number`);
  return tcp(host, Number(portText), text);
}

function tcp(host: string, port: number, shown: string): Address {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AddressError(`address ${shown}: port must be 0..65535`);
  // Python's BaseManager takes '' to mean every interface; say so explicitly.
  return { kind: 'tcp', host: host === '' ? '0.0.0.0' : host, port };
}

/**
 * Parses one address or several, comma-separated (`127.0.0.1:50000,127.0.0.1:50001`): the managers
 * of one group that a client may connect and reconnect to, tried in that order. A pair or an
 * object is one address.
 */
export function parseAddresses(input: string | { host: string; port: number } | readonly [string, number]): Address[] {
  if (typeof input !== 'string' || !input.includes(',')) return [parseAddress(input)];
  const parts = input.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) throw new AddressError(`address list ${JSON.stringify(input)} has an empty entry: give host:port,host:port`);
  return parts.map((part) => parseAddress(part));
}

/** Formats an address the way {@link parseAddress} reads it. */
export function formatAddress(address: Address): string {
  if (address.kind === 'ipc') return address.path;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Whether a TCP host is reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}
