/**
 * The store option's checks (`storeUrl.ts`): what they refuse is named without the password a
 * redis:// or rediss:// URL may carry, since the message reaches the terminal, a log or the extension.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoreAddress } from '../../src/server/store/storeUrl';

test('a store URL that is refused is named without its password', () => {
  const refused = [
    'rediss://user:hunter2@127.0.0.1:6379/x',
    'redis://:hunter2@127.0.0.1:6379/zero',
    'rediss://user:hunter2@/0',
    'http://user:hunter2@127.0.0.1:6379/0',
    'redis://user:hun@ter2@127.0.0.1:6379/x',
  ];
  for (const text of refused) {
    assert.throws(
      () => parseStoreAddress(text),
      (error: Error) => {
        assert.doesNotMatch(error.message, /hunter2|ter2/, text);
        assert.match(error.message, /127\.0\.0\.1|\/0/, 'the rest of the URL is still shown');
        return true;
      },
    );
  }
});

test('a store URL that is accepted shows no password', () => {
  const address = parseStoreAddress('rediss://user:hunter2@127.0.0.1:6380/2');
  assert.equal(address.kind, 'redis');
  if (address.kind === 'redis') assert.equal(address.shown, 'rediss://127.0.0.1:6380/2');
});

test('a store URL with a query or a fragment is refused: its parameters would override how the manager connects', () => {
  for (const text of ['rediss://127.0.0.1:6380/0?tls=x', 'redis://127.0.0.1:6379/0?enableOfflineQueue=true', 'redis://127.0.0.1:6379/0?autoResubscribe=true', 'redis://127.0.0.1:6379/0#x']) {
    assert.throws(() => parseStoreAddress(text), /takes no query or fragment/, text);
  }
});
