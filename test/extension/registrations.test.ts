/** The syncmanager.register setting as registrations, and what changed against a running manager. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registrationChanges, registrationsOf, SEED_QUEUES } from '../../src/extension/model/registrations';

test('the setting becomes TYPEID=TYPE registrations; nothing set is none', () => {
  assert.deepEqual([...registrationsOf(SEED_QUEUES)], [['get_task_queue', 'get_task_queue=Queue'], ['get_result_queue', 'get_result_queue=Queue']]);
  assert.deepEqual([...registrationsOf({ jobs: 'Queue(10)' })], [['jobs', 'jobs=Queue(10)']]);
  assert.equal(registrationsOf(undefined).size, 0);
  assert.equal(registrationsOf({}).size, 0);
});

test('a setting that is not typeid → built-in type is refused, naming the entry', () => {
  assert.throws(() => registrationsOf(['Queue']), /must be an object of typeid → built-in type/);
  assert.throws(() => registrationsOf({ jobs: 3 }), /syncmanager\.register\.jobs: "3" is not a built-in type/);
  assert.throws(() => registrationsOf({ '9lives': 'Queue' }), /"9lives" is not a typeid/);
});

test('added typeids can go live; changed and removed ones need a restart', () => {
  const served = registrationsOf({ a: 'Queue', b: 'Queue', c: 'dict' });
  const wanted = registrationsOf({ a: 'Queue', b: 'LifoQueue', d: 'list' });
  assert.deepEqual(registrationChanges(served, wanted), { added: ['d'], changed: ['b'], removed: ['c'] });
  assert.deepEqual(registrationChanges(served, served), { added: [], changed: [], removed: [] });
  assert.deepEqual(registrationChanges(registrationsOf({ v: 'Value("i", 0)' }), registrationsOf({ v: 'Value("i",0)' })).changed, [], 'spacing is no change');
});
