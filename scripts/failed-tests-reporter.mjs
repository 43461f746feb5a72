// A node:test reporter that prints nothing: it appends each failed test to the file named by
// SYNCMANAGER_FAILED_TESTS (its file, its name inside the tests it sits in, the first lines of its error), and
// scripts/run-tests.mjs prints that file once the run has ended, so that a long run's failures are in its last
// lines, where a log cut to its tail still shows them. It writes synchronously, as each failure comes: with
// --test-force-exit the run may end before a reporter's last output is written.
import { appendFileSync } from 'node:fs';

/** How many lines of a failure's error are shown: enough for an assertion's message (a child process's output, say) and the first frames. */
const ERROR_LINES = 40;
/** Stack frames of node's own test runner, which say nothing about the failure. */
const NODE_FRAME = /^\s+at .*\((node:internal\/|node:async_hooks)/;

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* failedTests(source) {
  const destination = process.env.SYNCMANAGER_FAILED_TESTS;
  /** Names of the tests that are running, by nesting level, so a subtest is shown inside its parents. */
  const path = [];
  for await (const event of source) {
    if (event.type === 'test:start') path[event.data.nesting] = event.data.name;
    if (event.type !== 'test:fail' || !destination) continue;
    const { name, nesting, file, details } = event.data;
    path[nesting] = name;
    const error = details?.error;
    // A parent fails because a subtest did: the subtest's entry already says why.
    if (error?.failureType === 'subtestsFailed') continue;
    const cause = error?.cause ?? error;
    const text = String(cause?.stack ?? cause?.message ?? cause ?? 'no error given');
    let entry = `#\n# ✖ ${path.slice(0, nesting + 1).join(' > ')}\n#   in ${file ?? 'an unknown file'}\n`;
    for (const line of text.split('\n').filter((l) => !NODE_FRAME.test(l)).slice(0, ERROR_LINES)) entry += `#   ${line}\n`;
    appendFileSync(destination, entry);
  }
}
