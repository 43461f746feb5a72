/**
 * `syncmanager serve --json`: what `--help` promises of the ready line is what it prints, with a
 * generated key and with one the user gave (which is never echoed).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');

before(() => {
  const build = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
});

/** Starts `serve --json` with `args`, reads its ready line, and stops it by its PID. */
async function readyLine(args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [cli, 'serve', '--address', '127.0.0.1:0', '--json', '--quiet', '--no-config', ...args], {
    env: { ...process.env, SYNCMANAGER_AUTHKEY: '' },
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no ready line in 20 s: ${out}`)), 20_000);
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out.slice(0, out.indexOf('\n')));
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code} before ready: ${out}`)));
    });
    return JSON.parse(line) as Record<string, unknown>;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** The keys `serve --help` says the --json line has, from its text `{a, b, ...}`. */
function documentedKeys(): string[] {
  const help = spawnSync(process.execPath, [cli, 'serve', '--help'], { encoding: 'utf8', timeout: 20_000 }).stdout;
  const line = help.split('\n').find((l) => l.trimStart().startsWith('--json'));
  assert.ok(line, 'serve --help describes --json');
  return /\{([^}]*)\}/.exec(line)![1].split(',').map((k) => k.trim());
}

test('serve --help names exactly the keys of the --json ready line, and says when authkey is left out', async () => {
  const documented = documentedKeys();
  const generated = await readyLine([]);
  assert.deepEqual(Object.keys(generated).sort(), [...documented].sort());
  assert.equal(generated.pid, Number(generated.pid), 'pid is a number');
  const given = await readyLine(['--authkey', 'lihui']);
  assert.deepEqual(Object.keys(given).sort(), documented.filter((k) => k !== 'authkey').sort(), 'a key the user gave is not echoed');
  const help = spawnSync(process.execPath, [cli, 'serve', '--help'], { encoding: 'utf8', timeout: 20_000 }).stdout;
  assert.match(help, /authkey only when it was generated/);
});
