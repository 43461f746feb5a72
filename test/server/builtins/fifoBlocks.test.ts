import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FifoBlocks, MAX_BLOCK } from '../../../src/server/builtins/fifoBlocks';

/** A small deterministic generator, so a failure replays the same steps. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('items come out in the order they went in, across many blocks', () => {
  const store = new FifoBlocks();
  const count = MAX_BLOCK * 3 + 17;
  for (let i = 0; i < count; i++) store.push(i);
  assert.equal(store.length, count);
  for (let i = 0; i < count; i++) assert.equal(store.take(), i);
  assert.equal(store.length, 0);
  assert.equal(store.take(), undefined);
});

test('every operation agrees with a plain array, in random orders over block boundaries', () => {
  const random = seeded(17);
  const store = new FifoBlocks();
  const model: unknown[] = [];
  let next = 0;
  for (let step = 0; step < 20_000; step++) {
    const r = random();
    if (r < 0.45) {
      // Bursts of puts and of gets as likely as each other, so the store grows past several blocks and empties again.
      const burst = 1 + Math.floor(random() * 300);
      for (let k = 0; k < burst; k++) {
        store.push(next);
        model.push(next++);
      }
    } else if (r < 0.9) {
      const burst = 1 + Math.floor(random() * 300);
      for (let k = 0; k < burst && model.length > 0; k++) assert.equal(store.take(), model.shift());
    } else if (r < 0.93 && model.length > 0) {
      const item = `back${step}`;
      store.putBack(item);
      model.unshift(item);
    } else if (r < 0.95 && model.length > 0) {
      const index = Math.floor(random() * model.length);
      assert.equal(store.removeAt(index), model.splice(index, 1)[0]);
    } else if (r < 0.98 && model.length > 0) {
      const index = Math.floor(random() * model.length);
      const item = { replaced: step };
      assert.equal(store.replaceAt(index, item), model[index]);
      model[index] = item;
    } else if (model.length > 0) {
      const start = Math.floor(random() * model.length);
      const end = start + Math.floor(random() * 2 * MAX_BLOCK);
      assert.deepEqual(store.range(start, end), model.slice(start, end));
    }
    assert.equal(store.length, model.length);
  }
  assert.deepEqual(store.snapshot(), model);
});

test('putBack on an empty store or at a block start puts the item first', () => {
  const store = new FifoBlocks();
  store.putBack('a');
  assert.deepEqual(store.snapshot(), ['a']);
  for (let i = 0; i < MAX_BLOCK; i++) store.push(i);
  for (let i = 0; i < 5; i++) store.putBack(`b${i}`);
  assert.deepEqual(store.snapshot().slice(0, 7), ['b4', 'b3', 'b2', 'b1', 'b0', 'a', 0]);
  assert.equal(store.length, MAX_BLOCK + 6);
});

test('fill adds items after those held, in the order given', () => {
  const store = new FifoBlocks();
  store.push('first');
  const items = Array.from({ length: MAX_BLOCK + 5 }, (_, i) => i);
  store.fill(items);
  assert.deepEqual(store.snapshot(), ['first', ...items]);
});
