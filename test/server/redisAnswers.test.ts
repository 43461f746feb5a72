import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answersRecorded, recordedAnswer, recordsAnswers } from '../../src/server/store/redisAnswers';
import { Delivery } from '../../src/server/builtins/deliveries';
import { ValueCodecError } from '../../src/common/valueCodecError';

const refs = {
  decodeProxy(): unknown {
    throw new ValueCodecError('the object {at} is gone');
  },
};

test('a recorded answer reads back as the call returned it: a value, or a delivery with its id and count', () => {
  assert.deepEqual(recordedAnswer('"job"', refs), { value: 'job' });
  assert.deepEqual(recordedAnswer('null', refs), { value: null });
  const answer = recordedAnswer('#Dd42 3 {"$tuple": [1, 2]}', refs);
  assert.ok(answer !== 'lost' && answer.value instanceof Delivery);
  const delivery = answer.value as Delivery;
  assert.deepEqual([delivery.deliveryId, delivery.deliveryCount, delivery.redelivered], ['d42', 3, true]);
});

test('a call marked as started, or an answer that cannot be read back any more, is lost', () => {
  assert.equal(recordedAnswer('?', refs), 'lost');
  assert.equal(recordedAnswer('{"$proxy": {"id": "r:gone", "typeid": "Queue", "exposed": []}}', refs), 'lost');
});

test('an object says which of its methods record their answers; one that says nothing records none', () => {
  assert.equal(recordsAnswers({ [answersRecorded]: (m: string) => m === 'put' }, 'put'), true);
  assert.equal(recordsAnswers({ [answersRecorded]: (m: string) => m === 'put' }, 'task_done'), false);
  assert.equal(recordsAnswers({}, 'put'), false);
  // A method of that name is an object's own (a user-registered class's), not the store's word.
  assert.equal(recordsAnswers({ answersRecorded: () => true }, 'put'), false);
});
