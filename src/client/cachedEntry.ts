/**
 * `dist/client.js`, the module `syncmanager/client` resolves to: it runs the client's code
 * (`dist/client-code.js`, the bundle of `./index`) as this module, compiled with the code cache
 * the build made when it fits (see `./codeCache`), and sets this module's exports to the client's.
 *
 * esbuild.js appends the names the client exports, in the form Node's ES module loader reads
 * (`0 && (module.exports = {...})`), so that `import { connect } from 'syncmanager/client'` works.
 */

import { compileClientCode, runClientCode } from './codeCache';

runClientCode(compileClientCode(__dirname), module, require, __dirname);
