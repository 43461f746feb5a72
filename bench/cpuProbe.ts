/**
 * What the CPU-time benches (`storeCost.ts`, `serverCost.ts`) share: their command-line options,
 * the CPU placement of their processes, and the line protocol by which a parent reads a child
 * process's CPU time (the child answers each line on its stdin with `CPU <µs>`), so that time is
 * read inside the process that spent it, at both ends of a measured window.
 */

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The value after `--name` on the command line, or `fallback`. */
export function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : process.argv[at + 1];
}

/**
 * `--node-options LABEL=FLAGS` (repeatable): the Node options, separated by spaces, the process of
 * the bundle labelled LABEL is started with, so that one build run with different V8 settings
 * compares interleaved (`--bundle semi4=dist/server.js --node-options semi4=--max-semi-space-size=4`).
 * Throws if a LABEL names none of `labels`.
 */
export function nodeOptionsByLabel(labels: readonly string[]): (label: string) => string[] {
  const given = new Map(process.argv.flatMap((arg, i) => (arg === '--node-options' ? [process.argv[i + 1].split(/=(.*)/s).slice(0, 2) as [string, string]] : [])));
  for (const label of given.keys()) if (!labels.includes(label)) throw new Error(`--node-options ${label}=…: no --bundle is labelled ${label}`);
  return (label) => (given.get(label) ?? '').split(' ').filter(Boolean);
}

/** `--pin same`: every process of a measure on CPU 0 (as run.ts's `--pin same`), through taskset. */
export const PIN = option('--pin', 'none') === 'same';

/** `command args`, run on CPU 0 under `--pin same`. */
export function pinned(command: string, args: string[]): [string, string[]] {
  return PIN ? ['taskset', ['-c', '0', command, ...args]] : [command, args];
}

/** A line a child prints that starts with `prefix` (the rest of it, trimmed), or the child's end as an error. */
export function lineOf(child: ChildProcess, prefix: string, timeoutMs: number): Promise<string> {
  return new Promise((done, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`no ${prefix} line within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith(prefix));
      if (line === undefined) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      done(line.slice(prefix.length).trim());
    };
    const onExit = (code: number | null): void => fail(new Error(`exited (${code}) before printing ${prefix}: ${out.slice(-500)}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * A process's user and system time in µs, all its threads', read from `/proc` (in clock ticks of
 * 10 ms): for a process that cannot answer {@link cpuTimeOf} (redis-server, CPython's server).
 */
export function procCpuUs(pid: number): number {
  // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** The parent's side: the CPU time `child` has used, in µs, read in the child (see {@link answerCpuTime}). */
export async function cpuTimeOf(child: ChildProcess): Promise<number> {
  const reply = lineOf(child, 'CPU ', 10_000);
  child.stdin!.write('cpu\n');
  return Number(await reply);
}

/** The child's side: answers each line on stdin with `CPU <µs>` (this process's user and system time), and calls `onEnd` when stdin closes. */
export function answerCpuTime(onEnd: () => void): void {
  let buffered = '';
  process.stdin.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      buffered = buffered.slice(at + 1);
      const used = process.cpuUsage();
      process.stdout.write(`CPU ${used.user + used.system}\n`);
    }
  });
  process.stdin.on('end', onEnd);
}
