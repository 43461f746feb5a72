import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingRequests } from '../../src/client/pendingRequests';

/** Checks the table against a plain Map of the same requests, oldest first. */
function assertSame(table: PendingRequests<string>, model: Map<number, string>): void {
  assert.equal(table.size, model.size);
  assert.deepEqual(table.entries(), [...model].sort((a, b) => a[0] - b[0]));
}

test('pending requests: one at a time, each answered before the next is sent', () => {
  const table = new PendingRequests<string>();
  for (let id = 1; id <= 3000; id++) {
    table.set(id, `r${id}`);
    assert.equal(table.size, 1);
    assert.equal(table.get(id), `r${id}`);
    assert.equal(table.take(id), `r${id}`);
    assert.equal(table.take(id), undefined);
    assert.equal(table.size, 0);
  }
});

test('pending requests: many in flight answered in any order, a few left waiting while thousands of newer ones come and go', () => {
  let seed = 17;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  // Ids as a long session reaches them too (past 2^32, where a 32-bit view of them wraps).
  for (const first of [1, 2 ** 32 - 50, 2 ** 40 + 3]) {
    const table = new PendingRequests<string>();
    const model = new Map<number, string>();
    // Blocked gets: answered only at the end.
    const waiting = [first, first + 1, first + 2];
    let next = first;
    for (const id of waiting) {
      table.set(id, `r${id}`);
      model.set(id, `r${id}`);
      next = id + 1;
    }
    for (let step = 0; step < 20_000; step++) {
      const inFlight = [...model.keys()].filter((id) => !waiting.includes(id));
      if (inFlight.length < 100 && random(3) > 0) {
        table.set(next, `r${next}`);
        model.set(next, `r${next}`);
        next++;
      } else if (inFlight.length > 0) {
        // Mostly the oldest, sometimes any other.
        const id = random(4) === 0 ? inFlight[random(inFlight.length)] : Math.min(...inFlight);
        assert.equal(table.get(id), `r${id}`);
        assert.equal(table.take(id), `r${id}`);
        model.delete(id);
      }
      assert.equal(table.get(next), undefined);
      if (step % 997 === 0) assertSame(table, model);
    }
    for (const id of waiting) {
      assert.equal(table.get(id), `r${id}`);
      assert.equal(table.take(id), `r${id}`);
      model.delete(id);
    }
    assertSame(table, model);
    table.clear();
    assertSame(table, new Map());
    assert.equal(table.get(next - 1), undefined);
  }
});

test('pending requests: an id given back to the table after it was taken (a request adopted by the next connection)', () => {
  const table = new PendingRequests<string>();
  for (let id = 1; id <= 2000; id++) table.set(id, `r${id}`);
  const taken = table.entries();
  table.clear();
  assert.equal(table.size, 0);
  for (const [id, entry] of taken) table.set(id, entry);
  assert.deepEqual(table.entries(), taken);
  for (const [id, entry] of taken) assert.equal(table.take(id), entry);
  assert.equal(table.size, 0);
});
