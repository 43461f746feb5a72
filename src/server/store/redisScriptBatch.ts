/**
 * One script that runs several of the store's scripts in one call: the calls a manager makes in
 * one turn (many, with many calls in flight) reach Redis as one `EVALSHA` instead of one each,
 * which saves Redis its per-script work (reading the command, setting up the script's KEYS and
 * ARGV, the reply) and the manager a frame and a reply per call.
 *
 * The batch's KEYS are each call's keys in turn, and its ARGV each call's number in
 * {@link BATCHED} followed by its arguments. Each call runs in order, as its own script would have:
 * its text is the same, with `KEYS[n]` and `ARGV[n]` read at the call's place in the batch. Each
 * answers with its own reply, in an array; one that raises an error (a key of another type)
 * answers with that error, and the calls after it still run, as they would have as scripts of
 * their own. The batch is atomic as a whole, which each call was alone: nothing another client
 * sends runs between two of them. Consecutive calls of one script on the same keys may go as one
 * run instead (`redisScriptRuns.ts`): its number, after those of {@link BATCHED}, is followed by
 * the count of its calls, their common arguments and each one's item, and it has one reply.
 */

import { RETURNED_ITEMS, STORE_SCRIPTS, WAITED_MARK_SUFFIX, type ScriptName } from './redisScripts';
import { withoutAnswerRecords } from './redisAnswers';
import { RUNS, type RunOf } from './redisScriptRuns';

/**
 * The scripts a batch carries, with the number of arguments each takes: a call with another
 * number of arguments goes as a script of its own. Only scripts whose arguments are all
 * `KEYS[n]`/`ARGV[n]` with a literal `n` can be carried (checked by {@link batchScriptText}).
 */
const BATCHED = [
  ['smQueuePut', 4],
  ['smQueueTake', 3],
  ['smQueueTakeAck', 7],
  ['smDeliverySettle', 5],
  ['smQueueState', 0],
  ['smQueuePutBack', 6],
  ['smQueueTaskDone', 2],
] as const satisfies readonly (readonly [ScriptName, number])[];

/** How a script is carried in a batch: its number there, its number of keys and of arguments. */
export interface BatchedScript {
  readonly op: number;
  /** Its number as a RESP bulk string, as the batch's frame gives it. */
  readonly opBulk: string;
  readonly keys: number;
  readonly args: number;
  /** How consecutive calls of it on the same keys go as one run (`redisScriptRuns.ts`), when they can. */
  readonly run?: BatchedRun;
}

/** How a run of calls of one script is carried in a batch: its number there, and how it is read. */
export interface BatchedRun extends Pick<RunOf, 'item' | 'replyOf' | 'split'> {
  /** Its number as a RESP bulk string. */
  readonly opBulk: string;
}

/** A number as a RESP bulk string. */
const bulkNumber = (n: number): string => `$${String(n).length}\r\n${n}\r\n`;

/** The scripts whose calls go in runs, in the order of their numbers in the batch, after {@link BATCHED}'s. */
const RUN_SCRIPTS = BATCHED.filter(([name]) => RUNS[name] !== undefined);

/** A run of calls of `name` as the batch carries it. */
function batchedRun(name: ScriptName): BatchedRun | undefined {
  const run = RUNS[name];
  const at = RUN_SCRIPTS.findIndex(([runName]) => runName === name);
  if (run === undefined || at < 0) return undefined;
  return { opBulk: bulkNumber(BATCHED.length + at + 1), item: run.item, replyOf: run.replyOf, split: run.split };
}

/** The scripts a batch can carry, by name. */
export const batchedScripts: Readonly<Partial<Record<ScriptName, BatchedScript>>> = Object.fromEntries(
  BATCHED.map(([name, args], i) => [name, { op: i + 1, opBulk: bulkNumber(i + 1), keys: STORE_SCRIPTS[name].keys, args, run: batchedRun(name) }]),
);

/** A script's text as a function of the batch: `KEYS[n]` and `ARGV[n]` read from offset `k` and `a`. */
function asBatchFunction(name: ScriptName, keys: number, args: number): string {
  let body: string = withoutAnswerRecords(STORE_SCRIPTS[name].text);
  // The helpers for returned items are defined once for the whole batch.
  if (body.startsWith(RETURNED_ITEMS)) body = body.slice(RETURNED_ITEMS.length);
  const rewritten = body.replace(/\b(KEYS|ARGV)\[(\d+)\]/g, (_, table: string, n: string) => {
    const index = Number(n);
    if (index < 1 || index > (table === 'KEYS' ? keys : args)) throw new Error(`${name} reads ${table}[${n}], past the ${table === 'KEYS' ? keys : args} it is given in a batch`);
    return `${table}[${table === 'KEYS' ? 'k' : 'a'} + ${n}]`;
  });
  const rest = rewritten.replace(/\b(KEYS|ARGV)\[[ka] \+ \d+\]/g, '');
  if (/\b(KEYS|ARGV)\b/.test(rest)) throw new Error(`${name} reads KEYS or ARGV other than at a literal index: it cannot be carried in a batch`);
  // Whether a key is waited on, and its publication, once per batch (see BATCH_HELPERS).
  const once = rewritten
    .replace(new RegExp(`redis\\.call\\('EXISTS', (ARGV\\[a \\+ \\d+\\]) \\.\\. '${WAITED_MARK_SUFFIX}'\\) == 1`, 'g'), 'waited($1)')
    .replace(/redis\.call\('PUBLISH', /g, 'publish(');
  return `local function ${name}(k, a)\n${once}\nend`;
}

/**
 * Lua the batch's calls share. A key's waited mark cannot change while the batch runs (only a
 * manager's own command sets it), so it is read once per key; and a key's change is published
 * once per batch: its waiters try again once the batch is over, however many of its calls
 * changed the key.
 */
const BATCH_HELPERS = `
local marks = {}
local function waited(key)
  local mark = marks[key]
  if mark == nil then
    mark = redis.call('EXISTS', key .. '${WAITED_MARK_SUFFIX}') == 1
    marks[key] = mark
  end
  return mark
end
local published = {}
local function publish(channel, key)
  local id = channel .. ' ' .. key
  if not published[id] then
    published[id] = true
    redis.call('PUBLISH', channel, key)
  end
end`;

/** The batch script's text (see the module comment). */
function batchScriptText(): string {
  const functions = BATCHED.map(([name, args]) => asBatchFunction(name, STORE_SCRIPTS[name].keys, args));
  const table = BATCHED.map(([name, args]) => `{ ${name}, ${STORE_SCRIPTS[name].keys}, ${args} }`);
  // A run: its keys are its script's, its arguments the count, the common ones and one item a call.
  const runs = RUN_SCRIPTS.map(([name, args]) => {
    const run = RUNS[name]!;
    return { lua: run.lua, entry: `{ ${run.name}, ${STORE_SCRIPTS[name].keys}, ${1 + args - (run.item === undefined ? 0 : 1)}, ${run.item === undefined ? 'false' : 'true'} }` };
  });
  return `${RETURNED_ITEMS}
${BATCH_HELPERS}
${functions.join('\n')}
${runs.map((run) => run.lua).join('\n')}
local OPS = { ${[...table, ...runs.map((run) => run.entry)].join(', ')} }
local out = {}
local k, a, i = 0, 1, 0
while a <= #ARGV do
  local op = OPS[tonumber(ARGV[a])]
  i = i + 1
  local ok, reply = pcall(op[1], k, a)
  if not ok then
    -- An error raised by redis.call is a table with its text in err; any other, its message.
    if type(reply) == 'table' and reply.err then reply = { err = reply.err } else reply = { err = tostring(reply) } end
  elseif reply == nil then
    reply = false
  end
  out[i] = reply
  local size = op[3]
  -- A run of calls with an item each: its count, then its other arguments, then their items.
  if op[4] then size = size + tonumber(ARGV[a + 1]) end
  k = k + op[2]
  a = a + 1 + size
end
return out`;
}

/** The batch script (its keys are given per call). */
export const BATCH_SCRIPT = { keys: 0, text: batchScriptText() } as const;
