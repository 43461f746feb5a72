#!/usr/bin/env node
/**
 * `syncmanager`: the manager server from a terminal, without VS Code.
 *
 *   syncmanager serve --address 127.0.0.1:50000 --authkey KEY \
 *     --register get_task_queue=Queue --register get_result_queue=Queue --config FILE
 */

import { readFileSync } from 'node:fs';
import { randomAuthkey } from '../common/authkey';
import { isLoopbackHost, parseAddress, type Address } from '../common/address';
import { VERSION } from '../common/version';
import { builtinTypes, creatableBuiltins } from './builtins';
import type { ChildMessage } from './childProcess';
import { findConfigFile } from './config';
import { ADDRESS_VARIABLE, AUTHKEY_VARIABLE, STORE_VARIABLE } from '../common/environmentVariables';
import { AUTHKEY_IN_ARGV_WARNING, STORE_CREDENTIALS_IN_ARGV_WARNING } from './secretsInArgv';
import { readServerTlsFiles, type ServerTlsFiles, type ServerTlsOptions } from './tlsWrap';
import { LIMIT_FLAGS_USAGE, LimitFlagError, parseLimitFlag, type LimitFlagValues } from './limitFlags';
import { acceptRegistrations } from './liveRegistrations';
import { heapTrimLine, trimHeapWhenIdle } from './idleHeapTrim';
import { Manager, type BuiltinTypeName } from './manager';
import { DEFAULT_STORE_PREFIX, hasCredentials } from './store/storeUrl';
import { readStoreTlsFiles, STORE_TLS_FLAGS } from './store';

/** Where `serve` listens when neither --address nor SYNCMANAGER_ADDRESS says. */
const DEFAULT_ADDRESS = '127.0.0.1:50000';

const USAGE = `syncmanager ${VERSION}: a manager server of shared queues, dicts, locks and custom objects

Usage:
  syncmanager serve [options]     serve until Ctrl-C
  syncmanager --help | --version

Options of serve:
  --address ADDR            host:port, [v6]:port, or a socket path
                            (default: $${ADDRESS_VARIABLE}, else ${DEFAULT_ADDRESS})
  --authkey KEY             the shared secret clients must prove; it shows in the process list,
                            so prefer $${AUTHKEY_VARIABLE} or --authkey-file (default:
                            $${AUTHKEY_VARIABLE}, else a random key that is printed)
  --authkey-file FILE       read the secret from FILE (one trailing newline is dropped)
  --register TYPEID=TYPE    serve one shared object of a built-in type under TYPEID; TYPE is one
                            of ${creatableBuiltins().map(([t]) => t).join(', ')}, optionally with JSON
                            arguments: jobs=Queue(100), count=Value("i",0). Repeatable.
  --config FILE             register the typeids a config module exports (default:
                            syncmanager.config.{ts,mts,js,mjs,cjs} in the current folder)
  --no-config               do not look for a config module
  --no-builtins             do not register SyncManager's typeids (Queue, dict, ...)
  --state FILE              keep the contents of the --register/config shared objects in FILE:
                            restored at start (a file that is not a complete state file is
                            refused, exit code 1), saved at a clean shutdown (Ctrl-C, SIGTERM,
                            a client's shutdown); written atomically
  --store URL               keep the built-in objects in Redis: redis://HOST:PORT/DB, or
                            rediss:// for TLS; every manager on the same Redis and prefix
                            serves the same objects (default: $${STORE_VARIABLE}, else memory,
                            this process only); a password in the URL shows in the process
                            list, so set ${STORE_VARIABLE}=redis://:PASSWORD@HOST:PORT/DB
  --store-prefix NAME       the prefix of the store's Redis keys (default ${DEFAULT_STORE_PREFIX})
  --store-tls-ca FILE       with a rediss:// store (Redis over TLS): trust this CA (PEM) for
                            Redis's certificate instead of Node's CAs
  --store-tls-cert FILE     with rediss://: a client certificate (PEM) for a Redis that requires
                            one (tls-auth-clients); needs --store-tls-key
  --store-tls-key FILE      the client certificate's private key (PEM)
  --store-lease SECS        with --store: how long what this manager's clients hold (locks,
                            permits, unacknowledged items) outlives the manager if it dies,
                            before another manager on the store gives it back (default 5)
  --handshake-timeout SECS  time a connection has to authenticate (default 10)
  --liveness-timeout SECS   drop a client that asked for liveness pings and then sent nothing
                            for this long (default 30)
  --max-message-bytes N     largest message accepted (default 67108864)
${LIMIT_FLAGS_USAGE}
  --tls-cert FILE           serve TLS with this certificate (PEM); needs --tls-key
  --tls-key FILE            the certificate's private key (PEM)
  --tls-ca FILE             require clients to present a certificate signed by this CA (PEM)
  --plaintext-address ADDR  with TLS, also serve plaintext on this loopback address, for
                            Python's own clients on this machine (same objects)
  --no-remote-shutdown      refuse clients' requests to stop the manager
  --no-inspection           refuse inspection (snapshots, peeks, change notifications)
  --quiet                   log nothing but errors
  --json                    print one JSON line {address, authkey, typeids, pid} when ready;
                            authkey only when it was generated (a key you gave is never echoed)
  --registrations-on-stdin  register more typeids while serving: one JSON line each on stdin,
                            {"register": "TYPEID=TYPE"}, answered with one JSON line on stdout

A non-loopback address needs an explicit authkey. Ctrl-C shuts down cleanly.
Workers connect with ${ADDRESS_VARIABLE} and ${AUTHKEY_VARIABLE} set as printed.`;

/** A usage mistake: printed with a hint, exit code 2. */
class UsageError extends Error {
  /** A mistake in the value of one flag (or environment variable), shown as the user typed it. */
  static inValue(flag: string, value: string, problem: string): UsageError {
    return new UsageError(`${flag.startsWith('--') ? `${flag} ` : `${flag}=`}${shellQuote(value)}: ${problem}`);
  }
}

/** Parsed `serve` options. */
interface ServeOptions {
  /** As given by --address; the environment and the default apply in {@link serve}. */
  address?: string;
  authkey?: string;
  registers: Registration[];
  config?: string;
  noConfig: boolean;
  builtins: boolean;
  handshakeTimeoutMs?: number;
  maxMessageBytes?: number;
  livenessTimeoutMs?: number;
  allowRemoteShutdown: boolean;
  inspection: boolean;
  quiet: boolean;
  json: boolean;
  child: boolean;
  limits: LimitFlagValues;
  tlsFiles: Partial<ServerTlsFiles>;
  /** The files of --store-tls-ca, --store-tls-cert and --store-tls-key. */
  storeTlsFiles: { ca?: string; cert?: string; key?: string };
  plaintextAddress?: string;
  registrationsOnStdin: boolean;
  stateFile?: string;
  store?: string;
  /** Whether {@link store} came from SYNCMANAGER_STORE, not --store: what the store's refusals say. */
  storeFromEnvironment?: boolean;
  storePrefix?: string;
  storeLeaseMs?: number;
}

/** One `--register TYPEID=TYPE(args)`, with the text it was parsed from. */
interface Registration {
  typeid: string;
  type: BuiltinTypeName;
  args: unknown[];
  text: string;
}

/** Parses `TYPEID=TYPE` or `TYPEID=TYPE(json, args)`. */
export function parseRegister(text: string): Registration {
  const problem = (message: string) => UsageError.inValue('--register', text, message);
  const match = /^([^=]+)=([A-Za-z]+)(.*)$/s.exec(text.trim());
  if (!match) throw problem('expected TYPEID=TYPE, e.g. get_task_queue=Queue');
  const [, typeid, type, rest] = match;
  if (!creatableBuiltins().some(([t]) => t === type)) throw problem(`unknown type ${JSON.stringify(type)} (known: ${creatableBuiltins().map(([t]) => t).join(', ')})`);
  if (rest !== '' && !rest.startsWith('(')) throw problem(`unexpected ${JSON.stringify(rest)} after ${type}; arguments go in parentheses, e.g. ${typeid}=${type}(100)`);
  if (rest.startsWith('(') && !rest.endsWith(')')) throw problem(`the "(" after ${type} is not closed: ${text.trim()})`);
  const argText = rest.slice(1, -1);
  let args: unknown[] = [];
  if (argText.trim() !== '') {
    try {
      args = JSON.parse(`[${argText}]`) as unknown[];
    } catch {
      throw problem('the arguments must be JSON values separated by commas, e.g. Value("i", 0)');
    }
  }
  return { typeid: typeid.trim(), type: type as BuiltinTypeName, args, text };
}

function parseServe(argv: string[], env: NodeJS.ProcessEnv): ServeOptions {
  const options: ServeOptions = {
    registers: [],
    noConfig: false,
    builtins: true,
    allowRemoteShutdown: true,
    inspection: true,
    quiet: false,
    json: false,
    child: false,
    limits: {},
    tlsFiles: {},
    storeTlsFiles: {},
    registrationsOnStdin: false,
  };
  let authkeyFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--address': options.address = value(); break;
      case '--authkey': options.authkey = value(); process.stderr.write(`syncmanager: ${AUTHKEY_IN_ARGV_WARNING}\n`); break;
      case '--authkey-file': authkeyFile = value(); break;
      case '--tls-cert': options.tlsFiles.certFile = value(); break;
      case '--tls-key': options.tlsFiles.keyFile = value(); break;
      case '--tls-ca': options.tlsFiles.caFile = value(); break;
      case '--plaintext-address': options.plaintextAddress = value(); break;
      case '--register': options.registers.push(parseRegister(value())); break;
      case '--config': options.config = value(); break;
      case '--store':
        options.store = value();
        if (hasCredentials(options.store)) process.stderr.write(`syncmanager: ${STORE_CREDENTIALS_IN_ARGV_WARNING}\n`);
        break;
      case '--store-prefix': options.storePrefix = value(); break;
      case STORE_TLS_FLAGS.ca: options.storeTlsFiles.ca = value(); break;
      case STORE_TLS_FLAGS.cert: options.storeTlsFiles.cert = value(); break;
      case STORE_TLS_FLAGS.key: options.storeTlsFiles.key = value(); break;
      case '--store-lease': {
        const seconds = Number(value());
        // The shortest lease is the store's rule (storeFor refuses it, and that becomes a usage error).
        if (!(seconds > 0)) throw new UsageError('--store-lease must be a positive number of seconds');
        options.storeLeaseMs = Math.round(seconds * 1000);
        break;
      }
      case '--no-config': options.noConfig = true; break;
      case '--no-builtins': options.builtins = false; break;
      case '--state': options.stateFile = value(); break;
      case '--no-remote-shutdown': options.allowRemoteShutdown = false; break;
      case '--no-inspection': options.inspection = false; break;
      case '--quiet': options.quiet = true; break;
      case '--json': options.json = true; break;
      case '--registrations-on-stdin': options.registrationsOnStdin = true; break;
      case '--child': options.child = true; break;
      case '--handshake-timeout': {
        const seconds = Number(value());
        if (!(seconds > 0)) throw new UsageError('--handshake-timeout must be a positive number of seconds');
        options.handshakeTimeoutMs = seconds * 1000;
        break;
      }
      case '--liveness-timeout': {
        const seconds = Number(value());
        if (!(seconds > 0 && seconds <= 86_400)) throw new UsageError('--liveness-timeout must be a positive number of seconds (at most 86400)');
        options.livenessTimeoutMs = seconds * 1000;
        break;
      }
      case '--max-message-bytes': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1024) throw new UsageError('--max-message-bytes must be a whole number of at least 1024');
        options.maxMessageBytes = n;
        break;
      }
      default:
        try {
          if (parseLimitFlag(flag, value, options.limits)) break;
        } catch (error) {
          throw error instanceof LimitFlagError ? new UsageError(error.message) : error;
        }
        throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  if (authkeyFile !== undefined) {
    if (options.authkey !== undefined) throw new UsageError('give --authkey or --authkey-file, not both');
    try {
      options.authkey = readFileSync(authkeyFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw UsageError.inValue('--authkey-file', authkeyFile, (error as Error).message);
    }
  }
  options.authkey ??= env[AUTHKEY_VARIABLE] || undefined;
  if (options.store === undefined && env[STORE_VARIABLE]) {
    options.store = env[STORE_VARIABLE];
    options.storeFromEnvironment = true;
  }
  return options;
}

/** The TLS settings of --tls-cert/--tls-key/--tls-ca, read; undefined without them. */
function tlsOf(files: Partial<ServerTlsFiles>): ServerTlsOptions | undefined {
  if (files.certFile === undefined && files.keyFile === undefined && files.caFile === undefined) return undefined;
  if (files.certFile === undefined || files.keyFile === undefined) throw new UsageError('TLS needs both --tls-cert and --tls-key');
  return readServerTlsFiles({ certFile: files.certFile, keyFile: files.keyFile, caFile: files.caFile });
}

/** Quotes a value for a POSIX shell line when it needs it. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_.:\/@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Logs a promise rejected and never handled, or an exception thrown outside any call (from a
 * timer a registered class's code set, say), instead of letting Node end the process: the manager
 * holds every client's objects, and one such failure must not take them all down. Python's manager
 * likewise serves on when a thread of its registered code fails. A call's own failure never gets
 * here (it is caught on the call's path and answered as an error), so what does was thrown outside
 * any call; its stack, in the log, says whose code it was. A log line that cannot be written (the
 * pipe to the manager's parent closed) is dropped: the failure to write it would come back here.
 */
function serveOnAfterUncaughtFailures(write: (message: string) => void): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  const why = (reason: unknown) => (reason instanceof Error ? (reason.stack ?? `${reason.name}: ${reason.message}`) : String(reason));
  process.on('unhandledRejection', (reason) => write(`a promise rejected and never handled (the manager serves on): ${why(reason)}`));
  process.on('uncaughtException', (error) => write(`an exception thrown outside any call (the manager serves on): ${why(error)}`));
}

function timestamp(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 19);
}

/** The address to listen on: --address, else SYNCMANAGER_ADDRESS, else the default; a bad one is a usage error naming its source. */
function listenAddress(options: ServeOptions, env: NodeJS.ProcessEnv): { text: string; address: Address } {
  const [source, text] =
    options.address !== undefined ? ['--address', options.address] : env[ADDRESS_VARIABLE] ? [ADDRESS_VARIABLE, env[ADDRESS_VARIABLE]] : ['', DEFAULT_ADDRESS];
  try {
    return { text, address: parseAddress(text) };
  } catch (error) {
    throw UsageError.inValue(source, text, (error as Error).message);
  }
}

async function serve(options: ServeOptions, env: NodeJS.ProcessEnv): Promise<number> {
  const { text: addressText, address } = listenAddress(options, env);
  if (address.kind === 'tcp' && !isLoopbackHost(address.host) && options.authkey === undefined) {
    throw new UsageError(
      `refusing to listen on ${addressText} with a random authkey: the address is reachable from other machines. ` +
        `Give --authkey or --authkey-file (or set ${AUTHKEY_VARIABLE}) so you choose the secret deliberately.`,
    );
  }
  const randomKey = options.authkey === undefined;
  const authkey = options.authkey ?? randomAuthkey();
  const log = options.quiet ? () => {} : (message: string) => process.stderr.write(`${timestamp()} ${message}\n`);
  const tls = tlsOf(options.tlsFiles);
  let manager: Manager;
  try {
    const storeTls = readStoreTlsFiles(options.storeTlsFiles);
    manager = new Manager({
      address: addressText,
      authkey,
      builtins: options.builtins,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      maxMessageBytes: options.maxMessageBytes,
      ...options.limits,
      tls,
      plaintextAddress: options.plaintextAddress,
      livenessTimeoutMs: options.livenessTimeoutMs,
      allowRemoteShutdown: options.allowRemoteShutdown,
      inspection: options.inspection,
      store: options.store,
      storePrefix: options.storePrefix,
      storeLeaseMs: options.storeLeaseMs,
      storeTls,
      stateFile: options.stateFile,
      log,
      // What a state file could not keep is shown even with --quiet.
      warn: (message) => process.stderr.write(`${timestamp()} warning: ${message}\n`),
    });
  } catch (error) {
    // The options the constructor checks itself: the store's URL, prefix and TLS files. A store nobody
    // named on the command line (an exported SYNCMANAGER_STORE) is said to be one.
    const from = options.storeFromEnvironment ? ` (the store is ${STORE_VARIABLE}'s, set in the environment)` : '';
    throw new UsageError(`${(error as Error).message}${from}`);
  }
  for (const r of options.registers) {
    try {
      manager.register(r.typeid, { shared: r.type, args: r.args });
    } catch (error) {
      throw UsageError.inValue('--register', r.text, `cannot make a ${r.type} for typeid '${r.typeid}': ${(error as Error).message}`);
    }
  }
  const config = options.noConfig ? undefined : (options.config ?? findConfigFile(process.cwd()));
  if (config) await manager.useConfig(config);
  try {
    await manager.listen();
  } catch (error) {
    if (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') throw error;
    throw new Error(`${(error as Error).message}; choose another with --address HOST:PORT or ${ADDRESS_VARIABLE} (port 0 picks a free one)`);
  }

  // Before the ready output: whoever reads it may stop the server at once, and must get a clean shutdown.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting at once\n`);
      process.exit(130);
    }
    stopping = true;
    log(`${signal}: shutting down`);
    // A failure (the state file could not be saved) is reported by serveForever below.
    manager.shutdown().catch(() => {});
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  serveOnAfterUncaughtFailures((message) => process.stderr.write(`${timestamp()} error: ${message}\n`));

  const custom = manager.registry.all().filter((r) => !(r.typeid in builtinTypes) || !options.builtins);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ address: manager.address, plaintextAddress: manager.plaintextAddress, authkey: randomKey ? authkey : undefined, typeids: manager.registry.all().map((r) => r.typeid), pid: process.pid })}\n`);
  } else {
    const lines = [
      `syncmanager ${VERSION} serving on ${manager.address}${options.tlsFiles.certFile ? ' (TLS)' : ''}${config ? ` (config ${config})` : ''}`,
      ...(manager.plaintextAddress ? [`  and in plaintext on ${manager.plaintextAddress}, for Python's own clients on this machine`] : []),
      `  typeids: ${custom.map((r) => r.typeid).join(', ') || '(none registered)'}${options.builtins ? `; built-in: ${Object.keys(builtinTypes).join(', ')}` : ''}`,
      'Connect workers with:',
      `  export ${ADDRESS_VARIABLE}=${shellQuote(manager.address)} ${AUTHKEY_VARIABLE}=${randomKey ? authkey : shellQuote(authkey)}`,
      'Press Ctrl-C to stop.',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  if (options.registrationsOnStdin) {
    acceptRegistrations(process.stdin, {
      parse: parseRegister,
      has: (typeid) => manager.registry.has(typeid),
      register: (r) => manager.register(r.typeid, { shared: r.type, args: r.args }),
      answer: (line) => process.stdout.write(`${line}\n`),
      log,
    });
  }

  const trim = trimHeapWhenIdle((step) => log(heapTrimLine(step)));
  try {
    await manager.serveForever();
  } finally {
    trim.stop();
  }
  log('stopped');
  return 0;
}

/** The hidden child mode of Manager.start(): configured over IPC, reports back over IPC. */
async function serveChild(): Promise<number> {
  const send = (message: ChildMessage) => process.send?.(message);
  const configure = await new Promise<Extract<ChildMessage, { type: 'configure' }>>((resolve) => {
    process.once('message', (message: ChildMessage) => {
      if (message.type === 'configure') resolve(message);
    });
  });
  const manager = new Manager({
    address: configure.address,
    authkey: Buffer.from(configure.authkeyHex, 'hex'),
    builtins: configure.builtins,
    inspection: configure.inspection,
    allowRemoteShutdown: configure.allowRemoteShutdown,
    handshakeTimeoutMs: configure.handshakeTimeoutMs,
    maxMessageBytes: configure.maxMessageBytes,
    maxConnections: configure.maxConnections,
    ...configure.limits,
    tls: configure.tls,
    plaintextAddress: configure.plaintextAddress,
    livenessTimeoutMs: configure.livenessTimeoutMs,
    stateFile: configure.stateFile,
    store: configure.store,
    storePrefix: configure.storePrefix,
    storeLeaseMs: configure.storeLeaseMs,
    storeTls: configure.storeTls,
    log: (message) => send({ type: 'log', message }),
  });
  try {
    for (const spec of configure.shared) manager.register(spec.typeid, { shared: spec.type, args: spec.args, kwargs: spec.kwargs });
    if (configure.config) await manager.useConfig(configure.config);
    await manager.listen();
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
    return 1;
  }
  process.on('message', (message: ChildMessage) => {
    if (message.type === 'shutdown') manager.shutdown().catch(() => {});
  });
  // BaseManager's child dies with its parent; so does ours. (A state file that cannot be saved is reported below.)
  process.on('disconnect', () => void manager.shutdown().catch(() => {}));
  serveOnAfterUncaughtFailures((message) => send({ type: 'log', message }));
  process.on('SIGINT', () => {
    // Ctrl-C in the parent's terminal reaches the child too: the parent decides when it stops.
  });
  send({ type: 'ready', address: manager.address });
  const trim = trimHeapWhenIdle((step) => send({ type: 'log', message: heapTrimLine(step) }));
  try {
    await manager.serveForever();
  } catch (error) {
    send({ type: 'log', message: (error as Error).message });
    process.disconnect?.();
    return 1;
  } finally {
    trim.stop();
  }
  process.disconnect?.();
  return 0;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version' || command === '-v') {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (command !== 'serve') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const options = parseServe(rest, env);
    return options.child ? await serveChild() : await serve(options, env);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`syncmanager: ${error.message}\nRun 'syncmanager --help' for the options.\n`);
      return 2;
    }
    process.stderr.write(`syncmanager: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
