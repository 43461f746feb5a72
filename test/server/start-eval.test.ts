/**
 * start() from a program given to node as code (`node -e CODE`, `node -p CODE`): its child process
 * runs the CLI, not that code again. The child inherits the parent's Node flags, and -e's code
 * among them ran in place of the CLI: the child started the program over (which started a child
 * of its own, and so on) and the manager never came up.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt } from '../vscode/build';

// The bundle, as a program run with node -e loads the installed package.
const server = join(__dirname, '..', '..', 'dist', 'server.js');

before(async () => {
  await ensureBuilt();
});

/** Run twice (a child that runs the code again), the program says so and stops, so nothing recurses. */
const PROGRAM = `
if (process.env.SYNCMANAGER_EVAL_TEST_RAN) { console.log('ran again'); process.exit(0); }
process.env.SYNCMANAGER_EVAL_TEST_RAN = '1';
const { Manager } = require(${JSON.stringify(server)});
const manager = new Manager({ address: '127.0.0.1:0', authkey: 'k' });
manager.start().then(async () => { console.log('started'); await manager.shutdown(); }, (error) => { console.log(error.message); process.exitCode = 1; });
`;

for (const flag of ['-e', '--eval', '-p', '--print']) {
  test(`start() from code given with node ${flag} runs the manager, not the code again`, { timeout: 60_000 }, () => {
    const run = spawnSync(process.execPath, [flag, `${PROGRAM}; undefined`], { encoding: 'utf8', timeout: 50_000 });
    assert.doesNotMatch(run.stdout, /ran again/, run.stdout + run.stderr);
    assert.match(run.stdout, /^started$/m, run.stdout + run.stderr);
    assert.equal(run.status, 0, run.stderr);
  });
}
