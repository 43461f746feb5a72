/**
 * The password of the `syncmanager.store` setting's Redis, kept in VS Code's secret storage rather than in the
 * setting (settings.json is often committed with a workspace). The rules, without vscode so that plain Node tests
 * them: which secret holds a store's password, how a URL loses its password and gets one back, and how text is
 * cleared of it before it reaches a message.
 *
 * A password is the Redis server's (and its ACL user's): every database of that server takes the same one. So the
 * secret is named by scheme, user, host and port, not by database nor by workspace: each workspace on that Redis
 * finds it, and a setting pointed at another Redis (a committed settings.json changed by anyone) is never sent a
 * password that was given for this one. The scheme is part of the name, so a password given for `rediss://` (TLS)
 * never goes in the clear to the same host over `redis://`.
 */

import { REDIS_DEFAULT_PORT } from '../../server/store/storeUrl';
import { SecretPrefix } from '../ids';

/** A Redis URL parsed, or undefined for memory, empty or what is no redis:// URL (the server says what is wrong with it). */
function redisUrl(text: string | undefined): URL | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The name of the secret holding the password of `store`'s Redis server and user, e.g.
 * `syncmanager.storePassword:redis://alice@127.0.0.1:6379`; undefined when `store` names no Redis.
 */
export function storeSecretName(store: string | undefined): string | undefined {
  const url = redisUrl(store);
  if (!url) return undefined;
  const user = url.username ? `${url.username}@` : '';
  return `${SecretPrefix.StorePassword}:${url.protocol}//${user}${url.hostname}:${url.port || REDIS_DEFAULT_PORT}`;
}

/** The server and user a store's password is for, as the extension's messages name them: `redis://alice@127.0.0.1:6379`. */
export function storeServerShown(store: string): string {
  return storeSecretName(store)?.slice(SecretPrefix.StorePassword.length + 1) ?? store;
}

/** The password `store`'s URL carries (decoded, as the Redis client reads it), or undefined when it carries none. */
export function passwordOf(store: string | undefined): string | undefined {
  const url = redisUrl(store);
  if (!url?.password) return undefined;
  try {
    return decodeURIComponent(url.password);
  } catch {
    return url.password;
  }
}

/** `store` without its password; its user, host, port and database as they were. */
export function withoutPassword(store: string): string {
  const url = redisUrl(store);
  if (!url?.password) return store;
  url.password = '';
  return url.toString();
}

/** `store` carrying `password`, percent-encoded so that `@`, `:`, `/` and `%` in it survive the URL. */
export function withPassword(store: string, password: string): string {
  const url = redisUrl(store);
  if (!url) throw new Error('only a redis:// or rediss:// store takes a password');
  url.password = encodeURIComponent(password);
  return url.toString();
}

/**
 * The URL the manager is given: the setting as it is when it carries a password itself (or names no Redis, or none
 * is stored); else the setting with the stored password added.
 */
export function mergeStorePassword(setting: string, stored: string | undefined): string {
  if (!stored || passwordOf(setting) !== undefined || !redisUrl(setting)) return setting;
  return withPassword(setting, stored);
}

/** `text` with every occurrence of `password` (as typed, and as a URL carries it) replaced by `***`. */
export function hidePassword(text: string, password: string | undefined): string {
  if (!password) return text;
  let hidden = text;
  for (const form of new Set([password, encodeURIComponent(password)])) hidden = hidden.split(form).join('***');
  return hidden;
}

/**
 * Turns a child's output, chunk by chunk, into whole lines cleared of `password` (see {@link hidePassword}), each
 * given to `line`: a chunk may end inside a line, and so inside the password, which a chunk-by-chunk clearing
 * would let through in two halves. `end()` gives the last line if the output did not end with a newline.
 */
export function passwordHidingLines(password: string | undefined, line: (text: string) => void): { push(chunk: string): void; end(): void } {
  let partial = '';
  const give = (text: string) => {
    const cleared = hidePassword(text.endsWith('\r') ? text.slice(0, -1) : text, password);
    if (cleared) line(cleared);
  };
  return {
    push(chunk) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const part of parts) give(part);
    },
    end() {
      give(partial);
      partial = '';
    },
  };
}

/** How Redis refuses a client's password: none given where one is required, or a wrong one. */
export type StoreAuthRefusal = 'none given' | 'wrong';

/** Whether the manager's words say Redis refused its password, and how; undefined for any other failure. */
export function storeAuthRefusal(text: string): StoreAuthRefusal | undefined {
  if (/\bNOAUTH\b/.test(text)) return 'none given';
  if (/\bWRONGPASS\b|invalid password|invalid username-password/i.test(text)) return 'wrong';
  return undefined;
}
