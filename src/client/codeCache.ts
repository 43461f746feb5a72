/**
 * `syncmanager/client` with V8's code cache: most of a cold client's own time is V8 compiling, on
 * first call, the functions of the handshake, the JSON-RPC connection and the client. The build
 * (esbuild.js) runs a client once against a manager of its own and keeps what V8 compiled
 * (`script.createCachedData()` after use holds the lazily compiled functions too) beside the code,
 * in `client-code.cache`; `dist/client.js` compiles `client-code.js` with it.
 *
 * V8 takes the cache only when it was made by the same V8 version with the same V8 flags, and
 * checks the source only by its length, so the cache file holds a copy of the code it was made
 * from and is used only when that copy is the code read now, byte for byte. V8 keeps no checksum
 * of its data either (Node 20's V8 checks one only in debug builds) and trusts what it reads: a
 * cache damaged on disk (bytes flipped, zeroed) stops the process with a fatal error or a
 * segmentation fault. So the file's header holds the data's length and CRC-32, and V8 is handed
 * only data that matches both. The CRC is zlib's (node:zlib, about 1 ms of a cold import with its
 * loading, against the 4 ms the cache saves; node:crypto's hashes cost more to load, and the client
 * otherwise never loads node:crypto); a Node without `zlib.crc32` (before 20.15) uses no cache.
 * Whenever the cache cannot be used (missing, damaged, made by another Node, for other code,
 * refused by V8), the code is compiled as any module is, with the same result.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';

/** The client's code and its cache, in the folder of `dist/client.js`. */
export const CODE_FILE = 'client-code.js';
export const CACHE_FILE = 'client-code.cache';

/**
 * The cache file's first line: this tag, V8's version, the code's length in bytes, then V8's data's length and its
 * CRC-32 in hex; then the code, then V8's data.
 */
const TAG = 'syncmanager-client-code-cache 2';
const NEWLINE = 0x0a;

/** The client's code, compiled as a CommonJS module's function, with the cache when it fits. */
export interface ClientCode {
  script: Script;
  /** The code as read, the bytes a cache made from this script must hold. */
  source: Buffer;
  filename: string;
  /** Whether V8 took the cache: false when there was none that fits, or V8 refused it. */
  cached: boolean;
}

/** The first line of a cache file for `source` and V8's `data`, made by this process's V8. */
function header(source: Buffer, data: Buffer): string {
  const crc = checksum(data);
  if (crc === undefined) throw new Error(`this Node (${process.version}) has no zlib.crc32 to make the cache's checksum with`);
  return `${headerStart(source)}${data.length} ${crc}\n`;
}

/** What the header holds of V8's data besides its length: its CRC-32, or undefined in a Node without `zlib.crc32`. */
function checksum(data: Buffer): string | undefined {
  // Loaded here, when there is a cache to check: a client without one does not pay for it.
  const { crc32 } = require('node:zlib') as typeof import('node:zlib');
  return typeof crc32 === 'function' ? crc32(data).toString(16) : undefined;
}

/** The part of the first line that depends on `source` and on this V8 alone. */
function headerStart(source: Buffer): string {
  return `${TAG} ${process.versions.v8} ${source.length} `;
}

/** V8's data in the cache file `cache`, if it was made by this V8 from exactly `source` and is whole, as written. */
export function cachedDataFor(cache: Buffer, source: Buffer): Buffer | undefined {
  const start = headerStart(source);
  const end = cache.indexOf(NEWLINE);
  if (end < start.length || cache.toString('latin1', 0, start.length) !== start) return undefined;
  const code = cache.subarray(end + 1, end + 1 + source.length);
  if (!code.equals(source)) return undefined;
  const data = cache.subarray(end + 1 + source.length);
  // The length first: a cut or lengthened file is told without hashing it.
  const [length, digest] = cache.toString('latin1', start.length, end).split(' ');
  if (Number(length) !== data.length || digest === undefined || digest !== checksum(data)) return undefined;
  return data;
}

/** A cache file's bytes: the header, `source`, then V8's `data` (from the script compiled from `source`). */
export function cacheFileBytes(source: Buffer, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(header(source, data), 'latin1'), source, data]);
}

/**
 * Compiles `client-code.js` of `dir` as Node compiles a CommonJS module, with the cache of `dir`
 * when it fits. The code must not use dynamic `import()`: a script compiled from a cache made in
 * another process cannot reach Node's loader with it (Node 20), so modules the client loads on
 * first use are required.
 */
export function compileClientCode(dir: string): ClientCode {
  const filename = join(dir, CODE_FILE);
  const source = readFileSync(filename);
  let cachedData: Buffer | undefined;
  try {
    cachedData = cachedDataFor(readFileSync(join(dir, CACHE_FILE)), source);
  } catch {
    // No cache (a build that could not make one): compiled without.
  }
  const script = compileCode(source, filename, cachedData);
  return { script, source, filename, cached: cachedData !== undefined && !script.cachedDataRejected };
}

/** `source` compiled as a CommonJS module's function (Node's wrapper's parameters), with V8's `cachedData` if given. */
export function compileCode(source: Buffer, filename: string, cachedData?: Buffer): Script {
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source.toString('utf8')}\n})`;
  return new Script(wrapped, { filename, cachedData });
}

/** Runs the compiled client code as the module `module` (whose `exports` it sets), requiring with `require`. */
export function runClientCode(code: ClientCode, module: { exports: unknown }, require: NodeJS.Require, dir: string): void {
  const define = code.script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  define(module.exports, require, module, code.filename, dir);
}
