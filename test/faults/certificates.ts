/**
 * Certificates made at run time with the `openssl` command, for the TLS tests: a CA, a server
 * certificate it signed for 127.0.0.1 and localhost, a client certificate it signed, and a second
 * CA that signed nothing of these (the wrong one to trust) but a client certificate of its own (a
 * stranger's, which a server requiring the first CA must refuse).
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of the PEM files, and their text. */
export interface TestCertificates {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  wrongCaFile: string;
  /** A client certificate the wrong CA signed. */
  strangerCertFile: string;
  strangerKeyFile: string;
  pem(file: string): string;
}

function openssl(dir: string, args: string[]): void {
  const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, `openssl ${args.join(' ')} failed (is openssl installed? .ci/run installs it):\n${run.stderr ?? run.error}`);
}

/** What a strict verifier (Python 3.13's default context) wants of a leaf certificate. */
const LEAF = 'keyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\nbasicConstraints=CA:FALSE\n';

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Makes a fresh set in folder `dir` (made if missing), which the caller removes: a folder of
 * test/helpers/tempFolder.ts, say.
 */
export function makeCertificates(dir: string): TestCertificates {
  mkdirSync(dir, { recursive: true });
  const ca = (name: string) => openssl(dir, ['req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=syncmanager test ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const signed = (name: string, cn: string, ext: string, signer = 'ca') => {
    openssl(dir, ['req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  };
  ca('ca');
  ca('wrong-ca');
  signed('server', 'localhost', `subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n${LEAF}`);
  signed('client', 'syncmanager test client', `extendedKeyUsage=clientAuth\n${LEAF}`);
  signed('stranger', 'syncmanager test stranger', `extendedKeyUsage=clientAuth\n${LEAF}`, 'wrong-ca');
  const at = (file: string) => join(dir, file);
  return {
    dir,
    caFile: at('ca.pem'),
    serverCertFile: at('server.pem'),
    serverKeyFile: at('server.key'),
    clientCertFile: at('client.pem'),
    clientKeyFile: at('client.key'),
    wrongCaFile: at('wrong-ca.pem'),
    strangerCertFile: at('stranger.pem'),
    strangerKeyFile: at('stranger.key'),
    pem: (file) => readFileSync(file, 'utf8'),
  };
}
