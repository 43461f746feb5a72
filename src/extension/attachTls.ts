/**
 * The `syncmanager.attachTls` setting, as the TLS options of the client that attaches to a
 * manager served with `--tls-cert`: `true` trusts the system's CAs; an object names PEM files.
 */

import { readFileSync } from 'node:fs';
import type { ClientTlsOptions } from '../client';

/** The setting's shape. */
export type AttachTlsSetting = boolean | { caFile?: string; certFile?: string; keyFile?: string; servername?: string } | undefined;

/** The client's TLS options for the setting; undefined for plaintext. @throws Error naming a file that cannot be read. */
export function attachTlsOptions(setting: AttachTlsSetting): ClientTlsOptions | undefined {
  if (!setting) return undefined;
  if (setting === true) return true;
  const read = (name: string, file: string | undefined) => {
    if (!file) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`syncmanager.attachTls.${name} ${file}: ${(error as Error).message}`);
    }
  };
  return { ca: read('caFile', setting.caFile), cert: read('certFile', setting.certFile), key: read('keyFile', setting.keyFile), servername: setting.servername };
}
