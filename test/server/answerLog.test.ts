/**
 * The answers a resumable session keeps (SPEC 20.4): numbered in the order written, forgotten once
 * the client has counted them, kept by id across a resumption until sent again, and bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnswerLog, MAX_KEPT_ANSWERS, ResumeRefused } from '../../src/server/jsonrpc/answerLog';
import type { RequestId } from '../../src/server/calls/sessionCore';

test('answers are kept until counted, and a resumption keeps the uncounted ones by id', () => {
  const log = new AnswerLog();
  for (let id = 2; id <= 6; id++) log.written(id, `answer ${id}`);
  assert.equal(log.count, 5);
  log.seen(2);
  assert.equal(log.answerOf(2), undefined);
  assert.equal(log.answerOf(3), undefined);
  assert.equal(log.answerOf(4), 'answer 4');
  // The client counted 3: the answers to 5 and 6 were lost with the connection.
  log.resumed(3);
  assert.equal(log.count, 3);
  assert.equal(log.answerOf(4), undefined);
  assert.equal(log.answerOf(5), 'answer 5');
  assert.equal(log.answerOf(6), 'answer 6');
  // Sent again on the new connection: numbered 4, and forgotten once counted.
  log.written(5, 'answer 5');
  log.seen(4);
  assert.equal(log.answerOf(5), undefined);
  assert.equal(log.answerOf(6), 'answer 6');
});

test('a count the log cannot go on from is refused', () => {
  const log = new AnswerLog();
  log.written(1, 'a');
  assert.throws(() => log.check(2), ResumeRefused);
  assert.throws(() => log.check(-1), ResumeRefused);
  assert.throws(() => log.check(0.5), ResumeRefused);
  log.check(0);
  log.check(1);
  // Counts out of range in $/answersSeen are ignored.
  log.seen(7);
  assert.equal(log.answerOf(1), 'a');
});

test('past its bound the log drops the oldest answers, and a resumption that lacks them is refused', () => {
  const log = new AnswerLog();
  for (let id = 1; id <= MAX_KEPT_ANSWERS + 2; id++) log.written(id, 'x');
  assert.equal(log.answerOf(1), undefined);
  assert.equal(log.answerOf(3), 'x');
  assert.throws(() => log.check(1), /dropped unacknowledged/);
  log.check(2);
});

test('the answers the bound drops unacknowledged are told, with the number they go up to, so the group drops its records of them too', () => {
  const dropped: [RequestId[], number][] = [];
  const log = new AnswerLog(0, undefined, (ids, upTo) => dropped.push([ids, upTo]));
  for (let id = 1; id <= MAX_KEPT_ANSWERS + 2; id++) log.written(id, 'x');
  assert.deepEqual(dropped, [
    [[1], 1],
    [[2], 2],
  ]);
});

test('answers lost with a connection and never sent again are bounded too: a resumption that would keep more of them is refused', () => {
  const log = new AnswerLog();
  for (let id = 1; id <= MAX_KEPT_ANSWERS; id++) log.written(id, 'x');
  // The client resumes having counted none, and sends none of those requests again.
  log.resumed(0);
  for (let id = MAX_KEPT_ANSWERS + 1; id <= 2 * MAX_KEPT_ANSWERS; id++) log.written(id, 'y');
  assert.equal(log.answerOf(1), 'x', 'kept by id until sent again');
  log.check(MAX_KEPT_ANSWERS);
  assert.throws(() => log.check(MAX_KEPT_ANSWERS - 1), /never sent again/);
});

test('a request id a client uses twice (SPEC 20.4 forbids it) is counted once among the answers lost: resumption after resumption is not refused for answers sent again', () => {
  const log = new AnswerLog();
  const large = 'x'.repeat(5 * 1024 * 1024);
  for (let round = 0; round < 4; round++) {
    // Two answers to id 1, both lost with the connection: the log keeps the last, and counts it alone.
    log.written(1, large);
    log.written(1, large);
    log.resumed(log.count - 2);
    assert.equal(log.answerOf(1), large);
    // Sent again and answered: nothing is lost any more.
    log.written(1, 'small');
  }
  log.check(log.count - 1);
});
