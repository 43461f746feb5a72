/** The environment variables' names in code are the ones protocol/SPEC.md tells other languages' clients to read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDRESS_VARIABLE, AUTHKEY_VARIABLE } from '../../src/common/environmentVariables';

test("the address and authkey variables are the ones SPEC section 2 names for workers", () => {
  const spec = readFileSync(join(__dirname, '..', '..', 'protocol', 'SPEC.md'), 'utf8');
  const line = spec.split('\n').find((l) => l.includes('as the environment variables'));
  assert.ok(line, 'SPEC.md names the environment variables workers get');
  assert.deepEqual([...line.matchAll(/`(SYNCMANAGER_\w+)`/g)].map((m) => m[1]), [ADDRESS_VARIABLE, AUTHKEY_VARIABLE]);
});
